// Shared set-up for the registry's integration tests: a private database and private
// topics per test file, so files never see each other's data.
import { Client } from 'pg';
import pino from 'pino';
import { createKafka } from '../../../services/common/kafka';
import { loadRegistryConfig, type RegistryConfig } from '../../../services/registry/config';
import { startRegistry, type RunningRegistry } from '../../../services/registry/server';
import { stack, uniqueName } from '../setup/stack';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const silent = pino({ level: 'silent' });

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('xp_test')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new Client({ connectionString: stack.databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function testEnv(db: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    REGISTRY_PORT: '0',
    REGISTRY_BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRY_CHANGES_TOPIC: uniqueName('test.registry.changes'),
    REGISTRY_EXPOSURES_TOPIC: uniqueName('test.exposures'),
    REGISTRY_OUTBOX_POLL_MS: '200',
    XP_TOPIC_PARTITIONS: '2',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

export async function startTestRegistry(
  env: Record<string, string>,
): Promise<RunningRegistry & { config: RegistryConfig }> {
  const config = loadRegistryConfig(env);
  const registry = await startRegistry(config, silent, { docsUi: false });
  return { ...registry, config };
}

export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = createKafka({
    clientId: 'registry-test',
    brokers: stack.kafkaBrokers,
    logger: silent,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

// Response bodies are checked field by field in the tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export interface Answer<T = Body> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small HTTP client for the registry API. */
export function client(base: string, token?: string) {
  return async function call<T = Body>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
