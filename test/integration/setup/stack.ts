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

/** The platform's services as `make up` starts them, with the local stack's public dev secrets. */
export const services = {
  registry: `http://${host}:${env.REGISTRY_PORT ?? 7070}`,
  collector: `http://${host}:${env.COLLECTOR_PORT ?? 7071}`,
  enricher: `http://${host}:${env.ENRICHER_PORT ?? 7072}`,
  sink: `http://${host}:${env.SINK_PORT ?? 7073}`,
  results: `http://${host}:${env.RESULTS_PORT ?? 7074}`,
  adminToken: env.REGISTRY_BOOTSTRAP_ADMIN_TOKEN ?? 'local-dev-admin-token-change-me',
  writeKey: 'local-dev-key',
  dataset: env.BIGQUERY_DATASET ?? 'xp',
};

/** Fails with a clear message unless every named service answers /healthz. */
export async function requireServices(
  ...names: ('registry' | 'collector' | 'enricher' | 'sink' | 'results')[]
) {
  for (const name of names) {
    const ok = await fetch(`${services[name]}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ok) throw new Error(`${name} is not running at ${services[name]}: start the stack with make up`);
  }
}

/** A name unique to this test run, for topics, datasets and databases that tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
