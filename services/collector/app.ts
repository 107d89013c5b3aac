import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger';
import { registerOpsRoutes, type ReadinessCheck } from '../common/ops-server';
import type { EventType, FailureReason } from '../common/records';
import type { FieldError } from '../common/serde';
import { decodeBody, type BodyError, type Decoded } from './body';
import { eventPayload, failedEvent } from './failed';
import type { CollectorMetrics } from './metrics';
import { normalize, type Edge } from './normalize';
import { PublishError, type OutRecord, type Publisher } from './publisher';
import { checkObject, describe, reason, type Limits } from './rules';
import { originAllowed, writeKeyFromHeaders, type Source, type WriteKeys } from './write-keys';

/** The Avro side the app needs (AvroSerde in production). */
export interface Serde {
  validate(topic: string, value: unknown): FieldError[];
  encode(topic: string, value: unknown): Buffer;
}

export interface AppSettings {
  limits: Limits;
  maxBodyBytes: number;
  maxBatchEvents: number;
  maxFailedPayloadBytes: number;
  anonymizeIp: boolean;
  trustProxy: boolean;
  requestTimeoutMs: number;
  /** Requests per window per write key; 0 turns rate limiting off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Retry-After of a 503 when Kafka did not acknowledge. */
  retryAfterSeconds: number;
}

export interface CollectorDeps {
  settings: AppSettings;
  logger: Logger;
  /** The prom-client registry /metrics serves, and the collector's series registered in it. */
  registry: Registry;
  metrics: CollectorMetrics;
  serde: Serde;
  publisher: Publisher;
  writeKeys: WriteKeys;
  topics: { rawEvents: string; exposures: string; failedEvents: string };
  readiness: ReadinessCheck[];
}

/** A request once its body is read and its write key resolved. */
interface Intake {
  source: Source;
  decoded: Decoded;
  /** The write key, only to cut it out of payloads kept in failed events; never logged or stored. */
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    intake: Intake | null;
  }
  interface FastifyReply {
    /** The answer's code (ok, invalid_json, rate_limited...), for the requests metric. */
    outcome: string;
  }
}

/** A refusal of the whole request: the HTTP status and the JSON answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Segment's HTTP API routes, the one-letter routes analytics.js posts to (/v1/t...), and
 * RudderStack's beacon route (navigator.sendBeacon, the write key in the query string).
 */
const ENDPOINTS: { path: string; type: EventType | 'batch' }[] = [
  ...(['track', 'identify', 'page', 'screen', 'group', 'alias'] as const).flatMap((type) => [
    { path: `/v1/${type}`, type },
    { path: `/v1/${type[0]}`, type },
  ]),
  { path: '/v1/batch', type: 'batch' },
  { path: '/v1/b', type: 'batch' },
  { path: '/beacon/v1/batch', type: 'batch' },
];

/** Rejected events an answer details; the rest are counted in rejectedCount. */
export const MAX_REJECTED_SHOWN = 100;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The collector's HTTP API on Fastify, not yet listening (tests start it in-process):
 * Segment's /v1/track, /v1/identify, /v1/page and /v1/batch, plus /metrics, /healthz and
 * /readyz. A request is answered 2xx only after Kafka acknowledged every record it caused.
 */
export async function buildApp(deps: CollectorDeps): Promise<FastifyInstance> {
  const { settings, serde, publisher, writeKeys, topics, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Request logs would carry client IPs; errors are logged without payloads below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.maxBodyBytes,
    requestTimeout: settings.requestTimeoutMs,
    http: {
      // Node checks requestTimeout and headersTimeout only every connectionsCheckingInterval
      // (30 s by default), so a slow client held a socket for 30 s past the limit.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(settings.requestTimeoutMs / 4))),
      headersTimeout: settings.requestTimeoutMs,
    },
    trustProxy: settings.trustProxy,
  });
  app.decorateRequest('intake', null);
  app.decorateReply('outcome', 'none');

  // Bodies are read as bytes (within bodyLimit) and decoded in the handler, which knows the
  // write key: gzip, UTF-8 and JSON errors then become answers and failed events, not
  // generic parser errors. text/plain is what navigator.sendBeacon sends without a preflight.
  app.removeAllContentTypeParsers();
  // application/x-www-form-urlencoded: @rudderstack/rudder-sdk-node (default settings) posts
  // its gzip JSON with that label (axios's default for a Buffer). The body is read as JSON
  // whatever the label says; real form data then fails as invalid_json with its position.
  app.addContentTypeParser(
    ['application/json', 'text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  await app.register(cors, {
    // Preflights carry no credentials, so they are answered for any origin some key allows;
    // each request is then held to its own key's allowlist (403 otherwise).
    origin: (origin, cb) =>
      cb(null, origin !== undefined && (writeKeys.anyOrigins.has('*') || writeKeys.anyOrigins.has(origin))),
    methods: ['POST'],
    // AnonymousId and SentAt: RudderStack's browser SDK sends them on every request.
    allowedHeaders: [
      'Content-Type',
      'Content-Encoding',
      'Authorization',
      'X-Write-Key',
      'AnonymousId',
      'SentAt',
    ],
    maxAge: 86400,
  });
  await app.register(rateLimit, { global: false });

  app.setErrorHandler((err: FastifyError | Refusal, req, reply) => {
    if (err instanceof Refusal) {
      return answer(reply, err.status, err.code, err.message, err.extra, err.headers);
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err: { message: err.message, code: err.code, stack: err.stack } }, 'request failed');
      return answer(reply, 500, 'internal_error', 'internal error; see the collector logs');
    }
    const code =
      status === 413
        ? 'payload_too_large'
        : status === 415
          ? 'unsupported_media_type'
          : status === 429
            ? 'rate_limited'
            : status === 408
              ? 'request_timeout'
              : 'bad_request';
    const message =
      status === 415 ? 'send Content-Type application/json or text/plain' : (err.message ?? 'bad request');
    return answer(reply, status, code, message);
  });
  app.setNotFoundHandler((req, reply) =>
    answer(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  registerOpsRoutes(app, { metrics: deps.registry, readiness: deps.readiness });

  const authenticate = async (req: FastifyRequest): Promise<void> => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decoded = await decodeBody(raw, header(req, 'content-encoding'), settings.maxBodyBytes);
    const bodyKey = decoded.ok && isObject(decoded.value) ? decoded.value.writeKey : undefined;
    const queryKey = (req.query as Record<string, unknown> | undefined)?.writeKey;
    const key =
      writeKeyFromHeaders(req.headers) ??
      (typeof bodyKey === 'string' && bodyKey !== '' ? bodyKey : undefined) ??
      (typeof queryKey === 'string' && queryKey !== '' ? queryKey : undefined);
    if (key === undefined) {
      if (!decoded.ok) throw bodyRefusal(decoded.error);
      throw new Refusal(
        401,
        'missing_write_key',
        'send the write key as the HTTP Basic username, an X-Write-Key header, a writeKey field or a writeKey query parameter',
        {},
        { 'www-authenticate': 'Basic realm="collector"' },
      );
    }
    const source = writeKeys.resolve(key);
    if (!source) {
      throw new Refusal(
        401,
        'unknown_write_key',
        'the write key is not known',
        {},
        {
          'www-authenticate': 'Basic realm="collector"',
        },
      );
    }
    if (!originAllowed(source.origins, header(req, 'origin'))) {
      throw new Refusal(403, 'origin_not_allowed', 'this write key may not be used from this origin');
    }
    req.intake = { source, decoded, key };
  };

  const rateLimitConfig =
    settings.rateLimitMax > 0
      ? {
          rateLimit: {
            hook: 'preHandler' as const, // after authenticate, which knows the source
            max: settings.rateLimitMax,
            timeWindow: settings.rateLimitWindowMs,
            keyGenerator: (req: FastifyRequest) => req.intake?.source.sourceId ?? 'unauthenticated',
            errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string }) =>
              new Refusal(429, 'rate_limited', `too many requests for this write key; retry in ${ctx.after}`),
          },
        }
      : {};

  for (const { path, type } of ENDPOINTS) {
    app.post(path, { preHandler: authenticate, config: rateLimitConfig }, async (req, reply) => {
      const intake = req.intake!;
      const receivedAt = Date.now();
      const events = await readEvents(intake, type, receivedAt);
      const edge: Edge = {
        receivedAt,
        sourceId: intake.source.sourceId,
        ip: req.ip,
        userAgent: header(req, 'user-agent'),
        anonymizeIp: settings.anonymizeIp,
        ...events.batch,
      };
      const out = route(events.items, type === 'batch' ? undefined : type, edge, intake);
      await publish(out.records);
      metrics.batchEvents.observe(events.items.length);
      for (const [eventType, n] of out.acceptedByType) metrics.accepted.inc({ type: eventType }, n);
      for (const r of out.rejected) metrics.rejected.inc({ reason: r.reasons[0]?.code ?? 'unknown' });

      const accepted = events.items.length - out.rejected.length;
      if (out.rejected.length === 0) return answer(reply, 200, 'ok', undefined, { accepted });
      // The answer names at most MAX_REJECTED_SHOWN events, so it stays small whatever the
      // request; every rejected event is in failed events with all its reasons.
      const details = {
        accepted,
        rejectedCount: out.rejected.length,
        rejected: out.rejected.slice(0, MAX_REJECTED_SHOWN),
      };
      if (accepted > 0) return answer(reply, 200, 'partially_accepted', undefined, details);
      return answer(reply, 400, 'invalid_events', 'no event was accepted; see rejected', details);
    });
  }

  /** The events of a request, or a refusal (with the body sent to failed events when readable). */
  async function readEvents(
    intake: Intake,
    type: EventType | 'batch',
    receivedAt: number,
  ): Promise<{ items: unknown[]; batch: Partial<Edge> }> {
    const { decoded } = intake;
    if (!decoded.ok) {
      if (decoded.error.status === 400)
        await rejectBody(intake, decoded.error.code, decoded.error.message, receivedAt);
      throw bodyRefusal(decoded.error);
    }
    const body = decoded.value;
    const refuse = async (code: string, message: string, path = ''): Promise<never> => {
      await rejectBody(intake, code, message, receivedAt, path);
      throw new Refusal(400, code, message, path ? { path } : {});
    };
    if (!isObject(body))
      return refuse('invalid_body', `the body must be a JSON object, got ${describe(body)}`);
    if (type !== 'batch') return { items: [body], batch: {} };
    if (!Array.isArray(body.batch)) return refuse('invalid_body', 'a batch body is {"batch": [events...]}');
    if (body.batch.length === 0) return refuse('empty_batch', 'the batch has no events');
    if (body.batch.length > settings.maxBatchEvents) {
      throw new Refusal(
        413,
        'too_many_events',
        `${body.batch.length} events in one batch, the limit is ${settings.maxBatchEvents}: split it`,
      );
    }
    // Items that are not objects carry no messageId and no identity: the body is not a batch.
    // Refusing it whole keeps 1 KB of `1,1,1...` from costing 500 answers and 500 records.
    const notObjects = body.batch.flatMap((item, i) => (isObject(item) ? [] : [i]));
    if (notObjects.length > 0) {
      const shown = notObjects.slice(0, 10).join(', ') + (notObjects.length > 10 ? ', …' : '');
      return refuse(
        'invalid_body',
        `every batch item must be a JSON object; ${notObjects.length} are not (indexes ${shown}), e.g. ${describe(body.batch[notObjects[0]!])}`,
        `batch.${notObjects[0]}`,
      );
    }
    // The batch context is merged under each event's own context, so it is held to the same
    // limits as one event's JSON, once per request (README: policies).
    const batchContext = body.context;
    const problems: FailureReason[] = [];
    checkObject(batchContext, 'context', settings.limits, problems);
    if (problems.length === 0 && isObject(batchContext)) {
      const bytes = Buffer.byteLength(JSON.stringify(batchContext));
      if (bytes > settings.limits.maxEventBytes)
        problems.push(
          reason(
            'too_large',
            'context',
            `${bytes} bytes of JSON, the limit is ${settings.limits.maxEventBytes}`,
          ),
        );
    }
    if (problems.length > 0) {
      const first = problems[0]!;
      return refuse('invalid_batch_context', `the batch context is invalid: ${first.message}`, first.path);
    }
    return { items: body.batch, batch: { batchSentAt: body.sentAt, batchContext } };
  }

  /** The records of a request's events: raw events, exposures and failed events. */
  function route(items: unknown[], type: EventType | undefined, edge: Edge, intake: Intake) {
    const records: OutRecord[] = [];
    const rejected: { index: number; messageId: string; reasons: FailureReason[] }[] = [];
    const acceptedByType = new Map<string, number>();
    const schemaCheck = (event: unknown) => serde.validate(topics.rawEvents, event);
    items.forEach((item, index) => {
      const result = normalize(item, type, edge, settings.limits, schemaCheck);
      if (result.ok) {
        const { event, exposure } = result;
        records.push({
          topic: topics.rawEvents,
          key: event.unitId,
          value: serde.encode(topics.rawEvents, event),
        });
        if (exposure) {
          records.push({
            topic: topics.exposures,
            key: exposure.unitId,
            value: serde.encode(topics.exposures, exposure),
          });
        }
        acceptedByType.set(event.type, (acceptedByType.get(event.type) ?? 0) + 1);
        return;
      }
      rejected.push({ index, messageId: result.messageId, reasons: result.reasons });
      records.push(
        failureRecord(
          redact(eventPayload(item, intake.decoded.text), intake.key),
          result.reasons,
          result.messageId,
          intake.source.sourceId,
          edge.receivedAt,
        ),
      );
    });
    return { records, rejected, acceptedByType };
  }

  /** Sends the whole, unreadable body to failed events (acks=all, like every record). */
  async function rejectBody(
    intake: Intake,
    code: string,
    message: string,
    receivedAt: number,
    path = '',
  ): Promise<void> {
    metrics.rejected.inc({ reason: code });
    const { decoded } = intake;
    // A readable body is kept without its writeKey field; any other body with the key's text cut out.
    const payload =
      decoded.ok && isObject(decoded.value) && 'writeKey' in decoded.value
        ? eventPayload(decoded.value, decoded.text)
        : decoded.text;
    await publish([
      failureRecord(
        redact(payload, intake.key),
        [reason(code, path, message)],
        null,
        intake.source.sourceId,
        receivedAt,
      ),
    ]);
  }

  function failureRecord(
    payload: Buffer,
    reasons: FailureReason[],
    messageId: string | null,
    sourceId: string,
    failedAt: number,
  ): OutRecord {
    const record = failedEvent({
      payload,
      reasons,
      messageId,
      sourceId,
      failedAt,
      maxPayloadBytes: settings.maxFailedPayloadBytes,
    });
    return {
      topic: topics.failedEvents,
      key: record.failureId,
      value: serde.encode(topics.failedEvents, record),
    };
  }

  async function publish(records: OutRecord[]): Promise<void> {
    try {
      await publisher.publish(records);
    } catch (err) {
      if (!(err instanceof PublishError)) throw err;
      // Overload clears as soon as in-flight records are acknowledged; an outage takes longer.
      const retryAfter = err.code === 'overloaded' ? 1 : settings.retryAfterSeconds;
      throw new Refusal(
        503,
        err.code === 'overloaded' ? 'overloaded' : 'kafka_unavailable',
        `${err.message}; nothing of this request is accepted, retry it`,
        {},
        { 'retry-after': String(retryAfter) },
      );
    }
  }

  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({
      route: req.routeOptions.url ?? 'unknown',
      status: reply.statusCode,
      code: reply.outcome,
    });
  });

  return app;
}

/**
 * `payload` with every occurrence of the write key's text replaced: a failed event must
 * never hold a secret, even in a body that cannot be parsed (so its writeKey field cannot
 * be removed).
 */
export function redact(payload: Buffer, key: string): Buffer {
  if (key.length === 0) return payload;
  // On bytes, so a body that is not text (bad gzip, bad UTF-8) is kept byte for byte otherwise.
  const needle = Buffer.from(key, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = payload.indexOf(needle); at !== -1; at = payload.indexOf(needle, from)) {
    parts.push(payload.subarray(from, at), REDACTED);
    from = at + needle.length;
  }
  if (from === 0) return payload;
  parts.push(payload.subarray(from));
  return Buffer.concat(parts);
}

const REDACTED = Buffer.from('[redacted]');

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bodyRefusal(error: BodyError): Refusal {
  return new Refusal(
    error.status,
    error.code,
    error.message,
    error.position === undefined ? {} : { position: error.position },
  );
}

/** Every answer has the same shape: success, the outcome code, a message when not ok, details. */
function answer(
  reply: FastifyReply,
  status: number,
  code: string,
  message?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  reply.outcome = code;
  const body =
    status < 300 ? { success: true, ...extra } : { success: false, error: code, message, ...extra };
  return reply.code(status).headers(headers).send(body);
}
