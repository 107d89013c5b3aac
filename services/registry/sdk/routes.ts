// SDK routes: the payload (ETag, 304), the server-sent event stream of payloads and changes,
// and server-side evaluation. SDK tokens may call these only.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ChangeHub, ChangeNotice } from '../changes/hub';
import type { FeatureDeps } from '../http/feature';
import { authorize } from '../tokens/auth';
import { evaluateForContext, type EvaluateRequest } from './evaluate';
import type { ExposureLogger } from './exposures';
import type { PayloadCache } from './payload';

const tags = ['sdk'];
/** Coalesces bursts of changes (an import of 50 flags) into one payload per stream. */
const PUSH_DELAY_MS = 25;

export interface SdkDeps extends Omit<FeatureDeps, 'pool'> {
  payloads: PayloadCache;
  hub: ChangeHub;
  exposures: ExposureLogger;
  /** REGISTRY_SSE_HEARTBEAT_MS: keep-alive comments on idle streams. */
  heartbeatMs: number;
}

export const sdkPlugin: FastifyPluginAsync<SdkDeps> = async (app, deps) => {
  const sdk = authorize(deps.tokens, 'sdk');
  const { environments } = deps;
  const envQuery = z.object({
    environment: z.string().refine((e) => environments.includes(e), {
      message: `must be one of: ${environments.join(', ')}`,
    }),
  });
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });

  // Browser SDKs read the payload and the stream from other origins. SDK tokens only read
  // the payload, so any origin may ask; the preflight allows the Authorization header.
  for (const url of ['/sdk/v1/payload', '/sdk/v1/stream']) {
    app.options(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET')
        .header('access-control-allow-headers', 'authorization, if-none-match, accept, cache-control')
        .header('access-control-max-age', '600')
        .send(),
    );
  }

  app.get(
    '/sdk/v1/payload',
    {
      onRequest: sdk,
      schema: {
        tags,
        summary: 'Everything an SDK needs to evaluate locally (ETag; If-None-Match answers 304)',
        querystring: envQuery,
      },
    },
    async (request, reply: FastifyReply) => {
      const { environment } = request.query as { environment: string };
      const built = await deps.payloads.get(environment);
      reply
        .header('etag', built.etag)
        .header('cache-control', 'no-cache')
        .header('access-control-allow-origin', '*')
        .header('access-control-expose-headers', 'etag');
      if (request.headers['if-none-match'] === built.etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(built.body);
    },
  );

  app.get(
    '/sdk/v1/stream',
    {
      onRequest: sdk,
      schema: {
        tags,
        summary:
          'Server-sent events: `payload` (the full payload, at connect and after every change) and `change` (what changed)',
        querystring: envQuery,
      },
    },
    async (request, reply) => {
      const { environment } = request.query as { environment: string };
      const first = await deps.payloads.get(environment);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'access-control-allow-origin': '*',
      });
      streams.add(res);
      let lastEtag = first.etag;
      res.write(`retry: 2000\nid: ${first.etag}\nevent: payload\ndata: ${first.body}\n\n`);

      let timer: NodeJS.Timeout | undefined;
      const push = async () => {
        timer = undefined;
        try {
          const built = await deps.payloads.get(environment);
          if (built.etag === lastEtag || res.writableEnded) return;
          lastEtag = built.etag;
          res.write(`id: ${built.etag}\nevent: payload\ndata: ${built.body}\n\n`);
        } catch (err) {
          request.log.warn({ err }, 'payload push failed; retrying on the next change');
        }
      };
      const onChange = (change: ChangeNotice) => {
        if (change.entityType === 'experiment') return; // reaches SDKs through its flag
        res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
        timer ??= setTimeout(() => void push(), PUSH_DELAY_MS);
      };
      deps.hub.on('change', onChange);
      // Comments keep proxies from closing an idle stream.
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), deps.heartbeatMs);
      res.on('close', () => {
        clearInterval(heartbeat);
        clearTimeout(timer);
        deps.hub.off('change', onChange);
        streams.delete(res);
      });
    },
  );

  app.post(
    '/v1/evaluate',
    {
      onRequest: sdk,
      schema: {
        tags,
        summary: 'Evaluate flags for one context on the server; logs exposures of experiment splits',
        body: z.strictObject({
          environment: z.string().min(1),
          context: z.record(
            z.string(),
            z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]),
          ),
          flags: z.array(z.string()).optional(),
        }),
      },
    },
    async (request) => evaluateForContext(deps, request.body as EvaluateRequest),
  );
};
