// The transactional outbox across a crash: the registry runs as a child process, is killed
// with SIGKILL while it relays a stream of changes, and a fresh process finishes the job.
// Every committed change must reach Kafka, in commit order; re-sends after the crash carry
// a sequence number already seen, which consumers drop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Pool } from 'pg';
import { createKafka } from '../../../services/common/kafka';
import type { RegistryChange } from '../../../services/common/records';
import { AvroSerde } from '../../../services/common/serde';
import { serviceMain } from '../setup/build';
import { stack, uniqueName } from '../setup/stack';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  silent,
  testEnv,
  waitFor,
  type TestDatabase,
} from './harness';
import { registryTopics } from '../../../services/registry/server';
import { loadRegistryConfig } from '../../../services/registry/config';

const MAIN = serviceMain('registry');
const CHANGES = 300;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function spawnRegistry(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env, REGISTRY_PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the registry child process to answer /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`registry exited ${child.exitCode}: ${stderr}`);
      return fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    30_000,
  );
  return { child, url };
}

describe('outbox relay across a kill -9', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let pool: Pool;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // Batches of one make the relay slow enough to be caught in the middle.
    env = testEnv(db, { REGISTRY_OUTBOX_BATCH_SIZE: '1' });
    pool = new Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await pool?.end();
    await db?.drop();
    if (env) await deleteTopics([env.REGISTRY_CHANGES_TOPIC!, env.REGISTRY_EXPOSURES_TOPIC!]);
  });

  it('publishes every committed change exactly in order, at least once, after a crash', async () => {
    const first = await spawnRegistry(env);
    children.push(first.child);
    const api = client(first.url, ADMIN_TOKEN);

    // Writers run until the process dies; a request cut by the kill may or may not have
    // committed, and either is fine: the outbox row exists exactly when the change does.
    let written = 0;
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; i < CHANGES; i += 6) {
        try {
          const r = await api('POST', '/v1/flags', { key: `flag_${i}`, valueType: 'boolean' });
          if (r.status === 201) written++;
        } catch {
          return; // connection refused: the process is gone
        }
      }
    });

    const counts = async () => {
      const { rows } = await pool.query<{ published: string; pending: string }>(
        `SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published,
                count(*) FILTER (WHERE published_at IS NULL) AS pending FROM outbox`,
      );
      return { published: Number(rows[0]!.published), pending: Number(rows[0]!.pending) };
    };
    // Kill it mid-stream: some changes relayed, others still waiting.
    const atKill = await waitFor('the relay to be half way', async () => {
      const c = await counts();
      return c.published >= 20 && c.pending >= 20 ? c : undefined;
    });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await Promise.all(writers);
    expect(atKill.pending).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(0);

    const second = await spawnRegistry(env);
    children.push(second.child);
    await waitFor('the outbox to drain', async () => (await counts()).pending === 0, 60_000);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));

    const { rows } = await pool.query<{ sequence: string; entity_key: string }>(
      'SELECT sequence, entity_key FROM outbox ORDER BY sequence',
    );
    const committed = rows.map((r) => Number(r.sequence));
    expect(committed.length).toBeGreaterThan(atKill.published);

    // Read the topic back.
    const config = loadRegistryConfig(env);
    const serde = await AvroSerde.create(stack.schemaRegistryUrl, registryTopics(config));
    const kafka = createKafka({ clientId: 'outbox-test', brokers: stack.kafkaBrokers, logger: silent });
    const consumer = kafka.consumer({ groupId: uniqueName('outbox-test') });
    await consumer.connect();
    await consumer.subscribe({ topic: env.REGISTRY_CHANGES_TOPIC!, fromBeginning: true });
    const received: { key: string; change: RegistryChange }[] = [];
    const last = committed[committed.length - 1]!;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const change = await serde.decode<RegistryChange>(env.REGISTRY_CHANGES_TOPIC!, message.value);
            received.push({ key: String(message.key), change });
            if (change.sequence === last) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    // A consumer that drops sequences it has already seen gets exactly the commit order.
    const applied: number[] = [];
    let high = 0;
    for (const { change } of received) {
      if (change.sequence <= high) continue;
      high = change.sequence;
      applied.push(change.sequence);
    }
    expect(applied).toEqual(committed);
    // Records are keyed entityType:key and carry the entity.
    const sample = received[0]!;
    expect(sample.key).toBe(`flag:${sample.change.key}`);
    expect(sample.change).toMatchObject({
      entityType: 'flag',
      action: 'created',
      actor: 'bootstrap-admin',
      version: 1,
    });
    expect(JSON.parse(sample.change.snapshot!)).toMatchObject({
      key: sample.change.key,
      valueType: 'boolean',
    });
  });
});
