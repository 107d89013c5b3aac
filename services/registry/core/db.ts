import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Pool, type PoolClient } from 'pg';
import type { Logger } from '../../common/logger';

export type { Pool, PoolClient };

/** Advisory lock keys (pg_advisory_*(int, int)); the first number namespaces the registry. */
export const LOCKS = {
  migrations: [7070, 1],
  /** Held by the instance that relays the outbox, so exactly one publishes at a time. */
  outboxRelay: [7070, 2],
  /** Taken per transaction before an outbox insert, so sequence order equals commit order. */
  outboxWrite: [7070, 3],
  /** Serialises experiment starts, so two experiments cannot claim one layer range at once. */
  experimentStart: [7070, 4],
} as const;

export function createPool(connectionString: string, max: number): Pool {
  const pool = new Pool({ connectionString, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in a transaction: commit on success, rollback on any error (then rethrow). */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** services/registry/migrations, found from source and from the build (dist/services/registry) alike. */
export const MIGRATIONS_DIR = findMigrationsDir(__dirname);

function findMigrationsDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'services', 'registry', 'migrations');
    if (existsSync(candidate)) return candidate;
  }
  return join(from, 'migrations');
}

/**
 * Applies migrations/*.sql in name order, each in its own transaction, recording them in
 * registry_migrations. A session advisory lock serialises instances starting together: the
 * second waits, then finds everything applied.
 */
export async function runMigrations(pool: Pool, logger: Logger, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCKS.migrations]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS registry_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ name: string }>('SELECT name FROM registry_migrations');
    const done = new Set(rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query('BEGIN');
      try {
        await client.query(readFileSync(join(dir, file), 'utf8'));
        await client.query('INSERT INTO registry_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
      logger.info({ migration: file }, 'migration applied');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCKS.migrations]).catch(() => undefined);
    client.release();
  }
  return applied;
}
