import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { TrackingEvent } from '../../../services/common/records';
import type { RunningRegistry } from '../../../services/registry/server';
import { WRITE_KEY, basicAuth, readAll, startCollector, type Harness } from '../collector/harness';
import {
  ADMIN_TOKEN,
  createTestDatabase,
  deleteTopics,
  startTestRegistry,
  testEnv,
  type TestDatabase,
} from '../registry/harness';

// Property-based fuzzing of what the collector and the registry read from the network:
// every answer is a 2xx, or a 4xx with an error code and a message; never a 5xx, a hang or
// a crash; and every event the collector accepted decodes from Kafka. Bounded in time
// (fast-check stops a property at its time limit), so `make test` stays predictable.

const TIME_LIMIT_MS = 20_000;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

// Strings clients and attackers send: ordinary text, any UTF-16 unit (lone surrogates
// included), NULs, long runs, JSON-ish and date-ish fragments.
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\ud800', 'a\udc00b', '\u0000', '', ' ', '2026-02-31', '1e400', '__proto__', 'constructor'),
  fc.string({ unit: 'binary', maxLength: 3 }).map((s) => s.repeat(3000)),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('any'), { maxLength: 5 }),
    fc.dictionary(nasty, tie('any'), { maxKeys: 5 }),
  ),
})).any;

const eventTypes = ['track', 'identify', 'page', 'screen', 'group', 'alias', 'purchase'];
const event = fc.record(
  {
    type: fc.constantFrom(...eventTypes),
    messageId: fc.oneof(fc.uuid(), nasty),
    userId: fc.oneof(fc.constant('u'), nasty, value),
    anonymousId: value,
    event: fc.oneof(fc.constantFrom('Order Completed', 'Experiment Viewed'), nasty),
    properties: fc.oneof(
      fc.record({ experiment_id: value, variation_id: value, revenue: value }),
      fc.dictionary(nasty, value, { maxKeys: 5 }),
      value,
    ),
    traits: value,
    context: value,
    timestamp: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      nasty,
      value,
    ),
    originalTimestamp: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      value,
    ),
    sentAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      value,
    ),
  },
  { requiredKeys: [] },
);

// Mostly valid events with arbitrary text and numbers inside, so some are accepted and
// the end-to-end half of the property (accepted means decodable) is exercised.
const plausible = fc.record({
  type: fc.constantFrom('track', 'identify', 'page'),
  messageId: fc.uuid(),
  userId: fc.string({ minLength: 1, maxLength: 20 }),
  event: fc.oneof(fc.constant('Experiment Viewed'), fc.string({ minLength: 1, maxLength: 30 })),
  properties: fc.record({
    experiment_id: fc.string({ minLength: 1, maxLength: 10 }),
    variation_id: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.integer()),
    text: fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 20 })),
    n: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    list: fc.array(fc.oneof(fc.string(), fc.boolean(), fc.constant(null)), { maxLength: 4 }),
  }),
  timestamp: fc
    .date({ min: new Date('2020-01-01'), max: new Date(), noInvalidDate: true })
    .map((d) => d.toISOString()),
});

/** A request body as text: structured events, a batch, or arbitrary (often broken) JSON. */
const collectorBody = fc.oneof(
  plausible.map((e) => JSON.stringify(e)),
  fc.array(plausible, { minLength: 1, maxLength: 20 }).map((batch) => JSON.stringify({ batch })),
  event.map((e) => JSON.stringify(e)),
  fc
    .record(
      {
        batch: fc.oneof(fc.array(fc.oneof(event, value), { maxLength: 20 }), value),
        context: value,
        sentAt: value,
      },
      { requiredKeys: ['batch'] },
    )
    .map((b) => JSON.stringify(b)),
  fc.json(),
  fc.json().chain((j) => fc.nat(j.length).map((n) => j.slice(0, n) + j.slice(n + 1))), // a character cut out
  fc.string({ unit: 'binary' }),
);

const collectorRequest = fc.record({
  path: fc.constantFrom(
    '/v1/track',
    '/v1/t',
    '/v1/identify',
    '/v1/page',
    '/v1/b',
    '/v1/batch',
    '/beacon/v1/batch',
    '/v1/alias',
  ),
  body: collectorBody,
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/xml',
  ),
  gzip: fc.boolean(),
  auth: fc.constantFrom('basic', 'body', 'query', 'none', 'wrong'),
});

function expectReasoned(status: number, json: Record<string, unknown>, what: string): void {
  if (status >= 200 && status < 300) return;
  if (status >= 500 || status < 400)
    throw new Error(`${what}: status ${status} ${JSON.stringify(json).slice(0, 300)}`);
  if (typeof json.error !== 'string' || typeof json.message !== 'string') {
    throw new Error(
      `${what}: ${status} without an error and a message: ${JSON.stringify(json).slice(0, 300)}`,
    );
  }
}

describe(`fuzzing the network inputs (seed ${SEED})`, () => {
  it('collector: 2xx or a reasoned 4xx for any request, and every accepted event decodes from Kafka', async () => {
    const h: Harness = await startCollector();
    let accepted = 0;
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(collectorRequest, async (r) => {
          runs++;
          let body: string | Buffer = r.body;
          const headers: Record<string, string> = { 'content-type': r.contentType };
          let url = h.url + r.path;
          if (r.auth === 'basic') headers.authorization = basicAuth();
          if (r.auth === 'wrong') headers.authorization = basicAuth('not-a-key-at-all');
          if (r.auth === 'query') url += `?writeKey=${WRITE_KEY}`;
          if (r.auth === 'body' && body.startsWith('{')) body = `{"writeKey":"${WRITE_KEY}",${body.slice(1)}`;
          if (r.gzip) {
            body = gzipSync(body);
            headers['content-encoding'] = 'gzip';
          }
          const res = await fetch(url, {
            method: 'POST',
            headers,
            body,
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          const json = JSON.parse(text) as Record<string, unknown>;
          expectReasoned(res.status, json, `${r.path} ${text.slice(0, 100)}`);
          if (typeof json.accepted === 'number') accepted += json.accepted;
        }),
        { seed: SEED, numRuns: 2_000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
      // End to end: what was accepted is in Kafka and decodes (readAll decodes every record).
      const raw = await readAll<TrackingEvent>(h, h.topics.rawEvents);
      expect(raw).toHaveLength(accepted);
      for (const { value: e } of raw) {
        expect(typeof e.messageId).toBe('string');
        for (const text of [e.properties, e.context, e.traits ?? '{}'])
          expect(() => JSON.parse(text)).not.toThrow();
      }
      console.log(`collector fuzz: ${runs} requests, ${accepted} events accepted and decoded`);
      expect(runs).toBeGreaterThan(50);
      expect(accepted).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });

  it('registry: 2xx or a reasoned 4xx for any body, query and token on its write and evaluate routes', async () => {
    const db: TestDatabase = await createTestDatabase();
    const registry: RunningRegistry & {
      config: { REGISTRY_CHANGES_TOPIC: string; REGISTRY_EXPOSURES_TOPIC: string };
    } = await startTestRegistry(testEnv(db));
    let runs = 0;
    let ok = 0;
    try {
      const routes: [string, string][] = [
        ['POST', '/v1/flags'],
        ['POST', '/v1/segments'],
        ['POST', '/v1/experiments'],
        ['POST', '/v1/evaluate'],
        ['POST', '/v1/config/import'],
        ['POST', '/v1/tokens'],
        ['GET', '/v1/audit'],
        ['GET', '/sdk/v1/payload'],
        ['POST', '/v1/experiments/x/transitions'],
        ['PATCH', '/v1/flags/x'],
      ];
      const flagish = fc.record(
        {
          key: fc.oneof(fc.constantFrom('f1', 'f2', 'x'), nasty),
          valueType: fc.constantFrom('boolean', 'string', 'number', 'json', 'nope'),
          description: nasty,
          owner: nasty,
          environments: value,
          name: nasty,
          role: value,
          yaml: fc.oneof(
            nasty,
            fc.constantFrom('a: &a [1]\nb: [*a, *a]', 'flags: {f: {valueType: boolean}}'),
          ),
          environment: fc.oneof(fc.constant('production'), nasty),
          context: value,
          conditions: value,
          to: value,
        },
        { requiredKeys: [] },
      );
      const request = fc.record({
        route: fc.constantFrom(...routes),
        body: fc.oneof(
          // Valid flags with arbitrary text, so writes reach PostgreSQL too.
          fc
            .record({
              key: fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
              description: nasty,
              tags: fc.array(nasty, { maxLength: 3 }),
            })
            .map((f) => JSON.stringify({ ...f, valueType: 'boolean' })),
          flagish.map((b) => JSON.stringify(b)),
          fc.json(),
          fc.string({ unit: 'binary' }),
        ),
        query: fc.dictionary(
          fc.constantFrom('actor', 'environment', 'entityType', 'limit', 'include'),
          nasty,
          { maxKeys: 3 },
        ),
        token: fc.constantFrom(ADMIN_TOKEN, 'wrong', ''),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ route: [method, path], body, query, token }) => {
          runs++;
          const qs = new URLSearchParams(query as Record<string, string>).toString();
          const res = await fetch(`${registry.url}${path}${qs ? `?${qs}` : ''}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: method === 'GET' ? undefined : body,
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} with a non-JSON answer`);
          }
          expectReasoned(res.status, json, `${method} ${path} ${body.slice(0, 80)}`);
          if (res.status < 300) ok++;
        }),
        { seed: SEED, numRuns: 2_000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect((await fetch(`${registry.url}/healthz`)).status).toBe(200);
      console.log(`registry fuzz: ${runs} requests, ${ok} answered 2xx`);
      expect(runs).toBeGreaterThan(50);
      expect(ok).toBeGreaterThan(0);
    } finally {
      await registry.close();
      await deleteTopics([registry.config.REGISTRY_CHANGES_TOPIC, registry.config.REGISTRY_EXPOSURES_TOPIC]);
      await db.drop();
    }
  });
});
