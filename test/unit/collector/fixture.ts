import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { avroType } from '../../../services/common/schemas';
import { buildApp, type AppSettings, type Serde } from '../../../services/collector/app';
import { collectorMetrics } from '../../../services/collector/metrics';
import { type OutRecord, type PublishError, type Publisher } from '../../../services/collector/publisher';
import { DEFAULT_LIMITS } from '../../../services/collector/rules';
import { WriteKeys } from '../../../services/collector/write-keys';

// The collector's HTTP side in-process for unit tests: the real Avro schemas and a publisher
// that records what it is given. What reaches Kafka is tested in test/integration/collector.

export const topics = { rawEvents: 'raw', exposures: 'exposures', failedEvents: 'failed' };
const types = {
  raw: avroType('tracking-event'),
  exposures: avroType('exposure'),
  failed: avroType('failed-event'),
} as const;
const typeOf = (topic: string) => types[topic as keyof typeof types];
export const serde: Serde = {
  validate(topic, value) {
    const errors: { path: string; message: string }[] = [];
    typeOf(topic).isValid(value, {
      errorHook: (path) => errors.push({ path: path.join('.'), message: 'mismatch' }),
    });
    return errors;
  },
  encode: (topic, value) => typeOf(topic).toBuffer(value),
};

export class FakePublisher implements Publisher {
  records: OutRecord[] = [];
  failWith: PublishError | null = null;
  inFlight = 0;
  async publish(records: OutRecord[]) {
    if (this.failWith) throw this.failWith;
    this.records.push(...records);
  }
  ready = () => true;
  start = async () => {};
  close = async () => {};
  on<T>(topic: string): (T & { key: string })[] {
    return this.records
      .filter((r) => r.topic === topic)
      .map((r) => ({ ...(typeOf(topic).fromBuffer(r.value) as T), key: r.key }));
  }
}

export const settings: AppSettings = {
  limits: DEFAULT_LIMITS,
  maxBodyBytes: 1024 * 1024,
  maxBatchEvents: 500,
  maxFailedPayloadBytes: 256 * 1024,
  anonymizeIp: true,
  trustProxy: true,
  requestTimeoutMs: 10_000,
  rateLimitMax: 0,
  rateLimitWindowMs: 1000,
  retryAfterSeconds: 5,
};
export const KEY = 'server-key-1';
export const WEB_KEY = 'browser-key-1';
export const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

export async function build(overrides: Partial<AppSettings> = {}) {
  const publisher = new FakePublisher();
  const registry = new Registry();
  const app = await buildApp({
    settings: { ...settings, ...overrides },
    logger: pino({ level: 'silent' }),
    registry,
    metrics: collectorMetrics(registry, () => publisher.inFlight),
    serde,
    publisher,
    writeKeys: new WriteKeys([
      { key: KEY, sourceId: 'backend', origins: [] },
      { key: WEB_KEY, sourceId: 'web', origins: ['https://shop.example'] },
    ]),
    topics,
    readiness: [],
  });
  return { app, publisher };
}

export interface Res {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

// Over a real socket on an ephemeral port: Fastify's inject() needs an ESM-only module Jest
// cannot load, and real HTTP is what clients see anyway.
export async function request(
  app: FastifyInstance,
  method: string,
  url: string,
  init: RequestInit = {},
): Promise<Res> {
  if (!app.server.listening) await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { method, ...init });
  const body = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers),
    body,
    json: () => JSON.parse(body),
  };
}

export const post = (
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
) =>
  request(app, 'POST', url, {
    body: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    headers: {
      'content-type': 'application/json',
      authorization: basic(KEY),
      // trustProxy is on in these tests, so this is the client address the app sees.
      'x-forwarded-for': '203.0.113.9',
      'user-agent': 'test-agent',
      ...headers,
    },
  });
