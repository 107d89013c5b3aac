// Where the integration tests find the real stack. Defaults follow the local stack's port
// variables (infra/local/lib.sh), so `KAFKA_PORT=19092 make test` works on a machine
// where the default ports are taken; global-setup.ts overrides them in testcontainers mode.
const env = process.env;
const host = env.XP_HOST ?? '127.0.0.1';

export const stack = {
  kafkaBrokers: (env.KAFKA_BROKERS ?? `${host}:${env.KAFKA_PORT ?? 9092}`).split(','),
  schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? `http://${host}:${env.SCHEMA_REGISTRY_PORT ?? 8081}`,
  databaseUrl: env.DATABASE_URL ?? `postgresql://xp:xp@${host}:${env.PGPORT ?? 5432}/xp`,
  bigqueryEndpoint: env.BIGQUERY_API_ENDPOINT ?? `http://${host}:${env.BIGQUERY_PORT ?? 9050}`,
  bigqueryProject: env.BIGQUERY_PROJECT ?? 'xp-local',
  /** The emulator's Storage Write API (gRPC). */
  bigqueryGrpcPort: Number(env.BIGQUERY_GRPC_PORT ?? 9060),
};

/** A name unique to this test run, for topics, datasets and databases that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
