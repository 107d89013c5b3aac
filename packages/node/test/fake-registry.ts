// A stand-in for the registry's SDK endpoints (payload with ETags, SSE stream) and the
// collector's /v1/batch, on an ephemeral port, for the SDK packages' unit tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Flag } from '@xp-platform/evaluation';

export interface FakeRegistry {
  url: string;
  setFlags(flags: Record<string, Flag>): void;
  /** Closes every open stream (the clients must reconnect). */
  dropStreams(): void;
  /** Stream answers with this status instead of streaming (0: stream normally). */
  streamStatus: number;
  /** Payload answers with this status (0: normally). */
  payloadStatus: number;
  payloadRequests: number;
  streamRequests: number;
  events: Array<Record<string, unknown>>;
  collectorStatus: number;
  close(): Promise<void>;
}

export function flag(key: string, value: unknown, extra: Partial<Flag['environments'][string]> = {}): Flag {
  return {
    key,
    type: 'release',
    valueType: typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : 'string',
    description: '',
    owner: 'o',
    tags: [],
    environments: {
      production: { enabled: true, defaultValue: value as never, offValue: false, rules: [], ...extra },
    },
  } as Flag;
}

export async function startFakeRegistry(initial: Record<string, Flag> = {}): Promise<FakeRegistry> {
  let flags = initial;
  let version = 1;
  const streams = new Set<ServerResponse>();
  const body = () => JSON.stringify({ environment: 'production', flags, segments: {} });
  const etag = () => `"v${version}"`;
  const state = {
    streamStatus: 0,
    payloadStatus: 0,
    payloadRequests: 0,
    streamRequests: 0,
    collectorStatus: 200,
    events: [] as Array<Record<string, unknown>>,
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/v1/batch') {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        if (state.collectorStatus === 200) state.events.push(...JSON.parse(text).batch);
        res.writeHead(state.collectorStatus, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (req.headers.authorization !== 'Bearer sdk-token') return void res.writeHead(401).end();
    if (url.pathname === '/sdk/v1/payload') {
      state.payloadRequests++;
      if (state.payloadStatus) return void res.writeHead(state.payloadStatus).end();
      if (req.headers['if-none-match'] === etag()) return void res.writeHead(304).end();
      return void res.writeHead(200, { etag: etag(), 'content-type': 'application/json' }).end(body());
    }
    if (url.pathname === '/sdk/v1/stream') {
      state.streamRequests++;
      if (state.streamStatus) return void res.writeHead(state.streamStatus).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 2000\nid: ${etag()}\nevent: payload\ndata: ${body()}\n\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    setFlags(next: Record<string, Flag>) {
      flags = next;
      version++;
      for (const s of streams)
        s.write(`event: change\ndata: {}\n\nid: ${etag()}\nevent: payload\ndata: ${body()}\n\n`);
    },
    dropStreams() {
      for (const s of streams) s.destroy();
    },
    async close() {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
