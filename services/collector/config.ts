import { z } from 'zod';
import { commonEnv, env, loadConfig } from '../common/config';
import { TOPICS, renamedSpec, type TopicName, type TopicSpec } from '../common/topics';
import type { AppSettings, CollectorDeps } from './app';
import { parseWriteKeys } from './write-keys';

/** Every setting of the collector, read from the environment (documented in README.md). */
export const collectorEnv = z
  .object({
    ...commonEnv,
    COLLECTOR_HOST: env.host(),
    COLLECTOR_PORT: env.port(7071),
    COLLECTOR_WRITE_KEYS: z.string().transform((text, ctx) => {
      try {
        return parseWriteKeys(text);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `a JSON array of {key, sourceId, origins}: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
    }),
    COLLECTOR_TRUST_PROXY: env.bool(false),
    COLLECTOR_ANONYMIZE_IP: env.bool(true),
    COLLECTOR_MAX_BODY_BYTES: env.int(1024 * 1024, 1024),
    COLLECTOR_MAX_BATCH_EVENTS: env.int(500, 1),
    COLLECTOR_MAX_EVENT_BYTES: env.int(32 * 1024, 256),
    COLLECTOR_MAX_DEPTH: env.int(8, 1),
    COLLECTOR_MAX_KEYS: env.int(300, 1),
    COLLECTOR_MAX_KEY_LENGTH: env.int(256, 1),
    COLLECTOR_MAX_STRING_LENGTH: env.int(8192, 1),
    COLLECTOR_MAX_ID_LENGTH: env.int(256, 1),
    COLLECTOR_MAX_FUTURE_MS: env.int(24 * 3600 * 1000),
    COLLECTOR_RATE_LIMIT_MAX: env.int(5000),
    COLLECTOR_RATE_LIMIT_WINDOW_MS: env.int(1000, 1),
    COLLECTOR_REQUEST_TIMEOUT_MS: env.int(10_000, 1),
    COLLECTOR_PRODUCE_TIMEOUT_MS: env.int(5000, 1),
    COLLECTOR_RETRY_AFTER_SECONDS: env.int(5, 1),
    COLLECTOR_MAX_IN_FLIGHT_RECORDS: env.int(20_000, 1),
    COLLECTOR_PRODUCE_BATCH_BYTES: env.int(1_000_000, 1024),
    COLLECTOR_PRODUCE_BATCH_RECORDS: env.int(10_000, 1),
    COLLECTOR_MAX_FAILED_PAYLOAD_BYTES: env.int(256 * 1024, 1024),
    COLLECTOR_PRODUCE: env.bool(true),
    COLLECTOR_RAW_TOPIC: z.string().min(1).default(TOPICS.rawEvents),
    COLLECTOR_EXPOSURES_TOPIC: z.string().min(1).default(TOPICS.exposures),
    COLLECTOR_FAILED_TOPIC: z.string().min(1).default(TOPICS.failedEvents),
  })
  // One request can need two records per event (the raw event and its exposure).
  .refine((c) => c.COLLECTOR_MAX_IN_FLIGHT_RECORDS >= 2 * c.COLLECTOR_MAX_BATCH_EVENTS, {
    path: ['COLLECTOR_MAX_IN_FLIGHT_RECORDS'],
    message: 'must be at least twice COLLECTOR_MAX_BATCH_EVENTS',
  })
  .refine((c) => c.COLLECTOR_MAX_FAILED_PAYLOAD_BYTES < c.COLLECTOR_PRODUCE_BATCH_BYTES, {
    path: ['COLLECTOR_MAX_FAILED_PAYLOAD_BYTES'],
    message: 'must be below COLLECTOR_PRODUCE_BATCH_BYTES',
  });

export type CollectorEnv = z.infer<typeof collectorEnv>;

/** The collector's configuration; throws ConfigError listing every bad variable. */
export function loadCollectorConfig(source: NodeJS.ProcessEnv = process.env): CollectorEnv {
  return loadConfig(collectorEnv, source);
}

/** The HTTP side's settings. */
export function appSettings(c: CollectorEnv): AppSettings {
  return {
    limits: {
      maxDepth: c.COLLECTOR_MAX_DEPTH,
      maxKeys: c.COLLECTOR_MAX_KEYS,
      maxKeyLength: c.COLLECTOR_MAX_KEY_LENGTH,
      maxStringLength: c.COLLECTOR_MAX_STRING_LENGTH,
      maxIdLength: c.COLLECTOR_MAX_ID_LENGTH,
      maxEventBytes: c.COLLECTOR_MAX_EVENT_BYTES,
      maxFutureMs: c.COLLECTOR_MAX_FUTURE_MS,
    },
    maxBodyBytes: c.COLLECTOR_MAX_BODY_BYTES,
    maxBatchEvents: c.COLLECTOR_MAX_BATCH_EVENTS,
    maxFailedPayloadBytes: c.COLLECTOR_MAX_FAILED_PAYLOAD_BYTES,
    anonymizeIp: c.COLLECTOR_ANONYMIZE_IP,
    trustProxy: c.COLLECTOR_TRUST_PROXY,
    requestTimeoutMs: c.COLLECTOR_REQUEST_TIMEOUT_MS,
    rateLimitMax: c.COLLECTOR_RATE_LIMIT_MAX,
    rateLimitWindowMs: c.COLLECTOR_RATE_LIMIT_WINDOW_MS,
    retryAfterSeconds: c.COLLECTOR_RETRY_AFTER_SECONDS,
  };
}

/** The topics the collector writes, as declared in services/common/topics.ts unless renamed. */
export function collectorTopicSpecs(c: CollectorEnv): { names: CollectorDeps['topics']; specs: TopicSpec[] } {
  const names = {
    rawEvents: c.COLLECTOR_RAW_TOPIC,
    exposures: c.COLLECTOR_EXPOSURES_TOPIC,
    failedEvents: c.COLLECTOR_FAILED_TOPIC,
  };
  const spec = (declared: TopicName, name: string) => renamedSpec(declared, c.XP_TOPIC_PARTITIONS, name);
  return {
    names,
    specs: [
      spec(TOPICS.rawEvents, names.rawEvents),
      spec(TOPICS.exposures, names.exposures),
      spec(TOPICS.failedEvents, names.failedEvents),
    ],
  };
}
