// The JavaScript SDK: fetches the registry's payload, evaluates flags locally with the same
// core as the server, and logs exposures to the collector as Segment `Experiment Viewed`
// events (deduplicated per unit, experiment and variant).
import { randomUUID } from 'node:crypto';
import {
  evaluate,
  type EvaluationContext,
  type EvaluationResult,
  type Flag,
  type Segment,
} from '@xp-platform/evaluation';
import { ExposureLog } from './exposure-log';

export interface XpClientOptions {
  /** e.g. http://127.0.0.1:7070 */
  registryUrl: string;
  /** A registry token with the `sdk` role. */
  sdkToken: string;
  environment: string;
  /** Where exposures and tracked events go; without it nothing is sent. */
  collectorUrl?: string;
  writeKey?: string;
  /** Events are sent in batches of at most this many (the collector accepts 500). */
  maxBatch?: number;
}

interface Payload {
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
}

/** A Segment-shaped event as the collector accepts it. */
export interface TrackCall {
  event: string;
  userId?: string;
  anonymousId?: string;
  properties?: Record<string, unknown>;
  timestamp?: string;
}

export class XpClient {
  private payload: Payload = { flags: {}, segments: {} };
  private etag: string | undefined;
  private queue: Array<TrackCall & { type: 'track'; messageId: string }> = [];
  private readonly exposures = new ExposureLog();
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly options: XpClientOptions) {}

  /** Fetches the payload; answers whether it changed (a 304 means it did not). */
  async refresh(): Promise<boolean> {
    const url = `${this.options.registryUrl}/sdk/v1/payload?environment=${encodeURIComponent(this.options.environment)}`;
    const res = await fetch(url, {
      headers: {
        authorization: `Bearer ${this.options.sdkToken}`,
        ...(this.etag ? { 'if-none-match': this.etag } : {}),
      },
    });
    if (res.status === 304) return false;
    if (!res.ok) throw new Error(`registry answered ${res.status}: ${await res.text()}`);
    this.payload = (await res.json()) as Payload;
    this.etag = res.headers.get('etag') ?? undefined;
    return true;
  }

  /** Polls the payload every `intervalMs` (the registry also offers an SSE stream, /sdk/v1/stream). */
  startPolling(intervalMs = 5_000): void {
    this.poller ??= setInterval(() => void this.refresh().catch(() => undefined), intervalMs).unref();
  }

  /** Evaluates a flag locally; logs an exposure the first time a unit lands in a variant. */
  evaluate(flagKey: string, context: EvaluationContext): EvaluationResult {
    const flag = this.payload.flags[flagKey];
    if (!flag) return { value: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' };
    const result = evaluate(flag, context, {
      environment: this.options.environment,
      segments: this.payload.segments,
      flags: this.payload.flags,
    });
    const exp = result.experiment;
    const unit = identity(context);
    if (exp && unit && this.exposures.firstTime(unit.userId ?? unit.anonymousId!, exp.key, exp.variationId)) {
      this.track({
        event: 'Experiment Viewed',
        ...unit,
        properties: { experiment_id: exp.key, variation_id: exp.variationId, phase: exp.phase },
      });
    }
    return result;
  }

  /** Queues a track call for the collector; sent by flush(). */
  track(call: TrackCall): void {
    if (!this.options.collectorUrl) return;
    this.queue.push({
      ...call,
      type: 'track',
      messageId: randomUUID(),
      timestamp: call.timestamp ?? new Date().toISOString(),
    });
  }

  /** Sends queued events in batches; a failed batch stays queued for the next flush. */
  async flush(): Promise<void> {
    const max = this.options.maxBatch ?? 500;
    while (this.queue.length > 0 && this.options.collectorUrl) {
      const batch = this.queue.slice(0, max);
      const res = await fetch(`${this.options.collectorUrl}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${this.options.writeKey ?? ''}:`).toString('base64')}`,
        },
        body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
      });
      if (!res.ok && res.status !== 400)
        throw new Error(`collector answered ${res.status}: ${await res.text()}`);
      this.queue.splice(0, batch.length);
    }
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    await this.flush();
  }
}

function identity(context: EvaluationContext): { userId?: string; anonymousId?: string } | undefined {
  const userId = typeof context.userId === 'string' ? context.userId : undefined;
  const anonymousId = typeof context.anonymousId === 'string' ? context.anonymousId : undefined;
  if (!userId && !anonymousId) return undefined;
  return userId ? { userId } : { anonymousId };
}
