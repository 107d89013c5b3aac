// Where the integration tests find the real stack. Defaults are the local stack's
// (`make up`); global-setup.ts overrides them with testcontainers' addresses in that mode.

export const stack = {
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  schemaRegistryUrl: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081',
  databaseUrl: process.env.DATABASE_URL ?? 'postgresql://xp:xp@127.0.0.1:5432/xp',
  bigqueryEndpoint: process.env.BIGQUERY_API_ENDPOINT ?? 'http://127.0.0.1:9050',
  bigqueryProject: process.env.BIGQUERY_PROJECT ?? 'xp-local',
};

/** A name unique to this test run, for topics, datasets and databases that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
