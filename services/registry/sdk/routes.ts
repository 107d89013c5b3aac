import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { authorize } from '../tokens/auth';
import { HttpError } from '../core/errors';
import { evaluate, type EvaluationContext, type Flag } from '@xp-platform/evaluation';
import type { ExposureInput } from './exposures';
import type { ChangeNotice } from './payload';

const tags = ['sdk'];
/** Coalesces bursts of changes (an import of 50 flags) into one payload per stream. */
const PUSH_DELAY_MS = 25;

export function sdkRoutes(app: FastifyInstance, deps: AppDeps): void {
  const sdk = authorize(deps.tokens, 'sdk');
  const environments = deps.config.REGISTRY_ENVIRONMENTS;
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
      const heartbeat = setInterval(
        () => res.write(': keep-alive\n\n'),
        deps.config.REGISTRY_SSE_HEARTBEAT_MS,
      );
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
    async (request) => {
      const body = request.body as { environment: string; context: EvaluationContext; flags?: string[] };
      if (!environments.includes(body.environment)) {
        throw new HttpError(
          400,
          'validation_failed',
          `environment: must be one of ${environments.join(', ')}`,
          [{ path: 'environment', message: `must be one of: ${environments.join(', ')}` }],
        );
      }
      const { payload } = await deps.payloads.get(body.environment);
      const options = { environment: body.environment, segments: payload.segments, flags: payload.flags };
      const keys = body.flags ?? Object.keys(payload.flags);
      const results: Record<string, unknown> = {};
      const exposures: ExposureInput[] = [];
      for (const key of keys) {
        const flag = payload.flags[key];
        if (!flag) {
          results[key] = { value: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' };
          continue;
        }
        const r = evaluate(flag, body.context, options);
        results[key] = r;
        if (r.experiment) {
          const unitId = unitFor(flag, body.environment, r.ruleId, body.context);
          if (unitId !== undefined) {
            exposures.push({
              unitId,
              experimentKey: r.experiment.key,
              variationId: r.experiment.variationId,
              phase: r.experiment.phase,
              attributes: body.context,
            });
          }
        }
      }
      const logged = exposures.length > 0 ? await deps.exposures.log(exposures) : 0;
      return { environment: body.environment, results, exposuresLogged: logged };
    },
  );
}

/** The unit the split hashed (its hashAttribute's value), for the exposure's key. */
function unitFor(flag: Flag, environment: string, ruleId: string | undefined, ctx: EvaluationContext) {
  const rule = flag.environments[environment]?.rules.find((r) => r.id === ruleId);
  const attr = rule?.split?.hashAttribute;
  const v = attr === undefined ? undefined : ctx[attr];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}
