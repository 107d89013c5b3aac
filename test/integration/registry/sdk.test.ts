// SDK-facing endpoints: the payload with ETag/304, the SSE stream receiving a kill switch
// flipped on another instance, and server-side evaluation emitting deduplicated exposures.
import type { RunningRegistry } from '../../../services/registry/server';
import { createKafka } from '../../../services/common/kafka';
import type { Exposure } from '../../../services/common/records';
import { AvroSerde } from '../../../services/common/serde';
import { registryTopics } from '../../../services/registry/server';
import { stack, uniqueName } from '../setup/stack';
import {
  ADMIN_TOKEN,
  client,
  createTestDatabase,
  deleteTopics,
  silent,
  startTestRegistry,
  testEnv,
  type Body,
  type TestDatabase,
} from './harness';

type Registry = RunningRegistry & { config: Parameters<typeof registryTopics>[0] };

/** A minimal SSE client: yields { event, data } as they arrive. */
async function openStream(url: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: { event: string; data: Body }[] = [];
  async function next(event: string, timeoutMs = 5_000): Promise<Body> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex((e) => e.event === event);
      if (i >= 0) return queue.splice(0, i + 1)[i]!.data;
      if (Date.now() > until) throw new Error(`no ${event} event within ${timeoutMs} ms`);
      const chunk = await Promise.race([
        reader.read(),
        new Promise<{ done: true; value: undefined }>((r) =>
          setTimeout(() => r({ done: true, value: undefined }), 200),
        ),
      ]);
      if (chunk.value) buffer += chunk.value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) queue.push({ event: ev, data: JSON.parse(data) });
      }
    }
  }
  return { next, close: () => controller.abort() };
}

describe('SDK endpoints', () => {
  let db: TestDatabase;
  let a: Registry;
  let b: Registry;
  let sdkToken: string;
  let editor: ReturnType<typeof client>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = testEnv(db);
    // Two instances on one database, as in a scaled-out deployment.
    a = await startTestRegistry(env);
    b = await startTestRegistry(env);
    const admin = client(a.url, ADMIN_TOKEN);
    sdkToken = (await admin('POST', '/v1/tokens', { name: 'web-backend', role: 'sdk' })).body.token;
    editor = client(a.url, (await admin('POST', '/v1/tokens', { name: 'eve', role: 'editor' })).body.token);
    await editor('POST', '/v1/segments', {
      key: 'fr',
      conditions: [{ attribute: 'country', operator: 'eq', value: 'FR' }],
    });
    await editor('POST', '/v1/flags', {
      key: 'new_checkout',
      valueType: 'boolean',
      environments: {
        production: {
          enabled: true,
          defaultValue: false,
          offValue: false,
          rules: [{ id: 'fr', conditions: [], segments: ['fr'], value: true }],
        },
      },
    });
    await editor('POST', '/v1/flags', {
      key: 'button_color',
      valueType: 'string',
      type: 'experiment',
      environments: {
        production: {
          enabled: true,
          defaultValue: 'blue',
          offValue: 'blue',
          rules: [
            {
              id: 'split',
              conditions: [],
              split: {
                seed: 'btn',
                experimentKey: 'btn',
                hashAttribute: 'userId',
                variants: [
                  { id: 'control', value: 'blue', weight: 1 },
                  { id: 'red', value: 'red', weight: 1 },
                ],
              },
            },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    if (a) await deleteTopics([a.config.REGISTRY_CHANGES_TOPIC, a.config.REGISTRY_EXPOSURES_TOPIC]);
  });

  it('serves the payload with an ETag and answers 304 when unchanged', async () => {
    const sdk = client(b.url, sdkToken);
    const first = await sdk('GET', '/sdk/v1/payload?environment=production');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body.flags).sort()).toEqual(['button_color', 'new_checkout']);
    expect(Object.keys(first.body.flags.new_checkout.environments)).toEqual(['production']);
    expect(first.body.segments.fr.conditions).toHaveLength(1);
    const etag = first.headers.get('etag')!;
    // Same content, same ETag, on every instance.
    expect(
      (await client(a.url, sdkToken)('GET', '/sdk/v1/payload?environment=production')).headers.get('etag'),
    ).toBe(etag);
    const again = await sdk('GET', '/sdk/v1/payload?environment=production', undefined, {
      'if-none-match': etag,
    });
    expect(again.status).toBe(304);
    const bad = await sdk('GET', '/sdk/v1/payload?environment=moon');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('environment');
    // SDK tokens reach nothing else.
    expect((await sdk('GET', '/v1/experiments')).status).toBe(403);
  });

  it('pushes a kill switch flipped on one instance to a stream on another within seconds', async () => {
    const stream = await openStream(`${b.url}/sdk/v1/stream?environment=production`, sdkToken);
    try {
      const initial = await stream.next('payload');
      expect(initial.flags.new_checkout.environments.production.enabled).toBe(true);
      const current = await editor('GET', '/v1/flags/new_checkout');
      const t0 = Date.now();
      const killed = await editor(
        'PATCH',
        '/v1/flags/new_checkout/environments/production',
        { enabled: false },
        { 'if-match': current.headers.get('etag')! },
      );
      expect(killed.status).toBe(200);
      const change = await stream.next('change');
      expect(change).toMatchObject({
        entityType: 'flag',
        key: 'new_checkout',
        action: 'disabled:production',
      });
      const pushed = await stream.next('payload');
      expect(pushed.flags.new_checkout.environments.production.enabled).toBe(false);
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      stream.close();
    }
  });

  it('evaluates on the server and emits each exposure once per unit, experiment and variant', async () => {
    const sdk = client(a.url, sdkToken);
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const answers = [];
    for (const userId of users) {
      const r = await sdk('POST', '/v1/evaluate', {
        environment: 'production',
        context: { userId, country: 'DE' },
      });
      expect(r.status).toBe(200);
      answers.push(r.body);
    }
    expect(answers[0].results.button_color).toMatchObject({
      reason: 'SPLIT',
      experiment: { key: 'btn', phase: 0 },
    });
    expect(answers[0].results.new_checkout).toMatchObject({ value: false, reason: 'DISABLED' });
    expect(answers.every((x) => x.exposuresLogged === 1)).toBe(true);
    // Repeats are deduplicated.
    const repeat = await sdk('POST', '/v1/evaluate', {
      environment: 'production',
      context: { userId: 'user-0' },
      flags: ['button_color'],
    });
    expect(repeat.body.exposuresLogged).toBe(0);
    const invalid = await sdk('POST', '/v1/evaluate', {
      environment: 'production',
      context: { userId: { nested: 1 } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details[0].path).toBe('context.userId');

    const topic = a.config.REGISTRY_EXPOSURES_TOPIC;
    const serde = await AvroSerde.create(stack.schemaRegistryUrl, registryTopics(a.config));
    const consumer = createKafka({
      clientId: 'sdk-test',
      brokers: stack.kafkaBrokers,
      logger: silent,
    }).consumer({
      groupId: uniqueName('sdk-test'),
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; exposure: Exposure }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push({
              key: String(message.key),
              exposure: await serde.decode<Exposure>(topic, message.value),
            });
            if (seen.length === users.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(seen.map((s) => s.exposure.unitId).sort()).toEqual([...users].sort());
    const e = seen.find((s) => s.exposure.unitId === 'user-0')!;
    expect(e.key).toBe('user-0');
    expect(e.exposure).toMatchObject({
      experimentKey: 'btn',
      variationId: answers[0].results.button_color.variant,
      origin: 'registry',
    });
    expect(JSON.parse(e.exposure.attributes!)).toEqual({ userId: 'user-0', country: 'DE' });
  });
});
