import { z } from 'zod';

/** Thrown at start-up when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads a service's configuration from environment variables. The schema's keys are the
 * variable names; every bad variable is reported in one error rather than the first only.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = env[name];
      const shown = value === undefined ? 'not set' : `got ${JSON.stringify(redactIfSecret(name, value))}`;
      return `${name}: ${issue.message} (${shown})`;
    }),
  );
}

function redactIfSecret(name: string, value: string): string {
  return /KEY|TOKEN|SECRET|PASSWORD/i.test(name) ? '<redacted>' : value;
}

// Reusable field types for environment variables (all arrive as strings).
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback),
  host: (fallback = '127.0.0.1') => z.string().min(1).default(fallback),
  url: (fallback: string) => z.url().default(fallback),
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1)),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((s) => s === 'true' || s === '1'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Settings every service shares: logging, Kafka and the schema registry. */
export const commonEnv = {
  LOG_LEVEL: env.logLevel(),
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: env.url('http://127.0.0.1:8081'),
  XP_TOPIC_PARTITIONS: env.int(6, 1),
};
