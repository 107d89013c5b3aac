import { z } from 'zod';
import { commonEnv, env, loadConfig } from '../common/config';
import { TOPICS } from '../common/topics';

/**
 * The registry's environment variables (documented in services/registry/README.md).
 * DATABASE_URL has no default: it carries a password, and production has no default secrets.
 */
export const registryEnv = z.object({
  ...commonEnv,
  REGISTRY_HOST: env.host(),
  REGISTRY_PORT: env.port(7070),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  REGISTRY_DB_POOL_SIZE: env.int(10, 1),
  REGISTRY_BOOTSTRAP_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  REGISTRY_ENVIRONMENTS: env.list('development,staging,production'),
  REGISTRY_BODY_LIMIT_BYTES: env.int(1_048_576, 1024),
  REGISTRY_CHANGES_TOPIC: z.string().min(1).default(TOPICS.registryChanges),
  REGISTRY_EXPOSURES_TOPIC: z.string().min(1).default(TOPICS.exposures),
  REGISTRY_OUTBOX_BATCH_SIZE: env.int(100, 1),
  REGISTRY_OUTBOX_POLL_MS: env.int(1_000, 10),
  REGISTRY_EXPOSURE_DEDUPE_SIZE: env.int(100_000, 0),
  REGISTRY_SSE_HEARTBEAT_MS: env.int(15_000, 100),
  REGISTRY_TOKEN_CACHE_MS: env.int(5_000, 0),
  REGISTRY_SHUTDOWN_TIMEOUT_MS: env.int(15_000, 100),
});

export type RegistryConfig = z.infer<typeof registryEnv>;

export function loadRegistryConfig(source: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig(registryEnv, source);
}
