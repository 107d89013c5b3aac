// Batches Segment-shaped events to the collector's /v1/batch: a bounded queue (the oldest
// events are dropped, and counted, when it is full), one request in flight, retries with
// exponential backoff and Retry-After on network errors, 429 and 5xx. A 400 answer means the
// collector judged the events themselves (it reports each in its failed-events topic), so
// they are not re-sent. messageId makes re-sending safe: the pipeline keeps one copy.
import { basicAuth, uuid } from './ids';

export interface CollectorEvent {
  type: 'track' | 'identify' | 'page';
  messageId: string;
  timestamp: string;
  event?: string;
  name?: string;
  userId?: string;
  anonymousId?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

export type EventInput = Omit<CollectorEvent, 'messageId' | 'timestamp' | 'type'> & {
  type?: CollectorEvent['type'];
  messageId?: string;
  timestamp?: string;
};

export interface EventQueueOptions {
  collectorUrl: string;
  writeKey: string;
  fetch?: typeof fetch;
  /** Events per request (the collector accepts up to 500). */
  maxBatch?: number;
  /** Events kept while the collector is unreachable; beyond it the oldest are dropped. */
  maxQueue?: number;
  /** A flush starts this long after the first queued event (or when a batch is full). */
  flushIntervalMs?: number;
  /** Backoff between retries: min, doubling, capped at max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Library name and version sent in context.library. */
  library?: { name: string; version: string };
  onError?: (error: Error) => void;
}

export class EventQueue {
  private readonly queue: CollectorEvent[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private closed = false;
  /** Events dropped because the queue was full. */
  dropped = 0;
  /** Events the collector acknowledged (2xx). */
  delivered = 0;
  /** Events the collector refused as invalid (400). */
  rejected = 0;

  constructor(private readonly options: EventQueueOptions) {}

  get size(): number {
    return this.queue.length;
  }

  enqueue(input: EventInput): CollectorEvent {
    const event: CollectorEvent = {
      ...input,
      type: input.type ?? 'track',
      messageId: input.messageId ?? uuid(),
      timestamp: input.timestamp ?? new Date().toISOString(),
    };
    if (this.options.library) {
      event.context = { library: this.options.library, ...event.context };
    }
    const max = this.options.maxQueue ?? 10_000;
    while (this.queue.length >= max) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(event);
    if (!this.closed) this.schedule(this.queue.length >= this.maxBatch() ? 0 : this.interval());
    return event;
  }

  /** Sends everything queued (retrying failures until `deadline` ms from now). */
  async flush(deadlineMs = 10_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.queue.length > 0) {
      await this.sendOnce();
      if (this.queue.length === 0 || Date.now() >= until) break;
      if (this.failures > 0) await sleep(Math.min(this.backoff(), Math.max(0, until - Date.now())));
    }
  }

  /** Takes every queued event out (for a beacon on page hide); they will not be sent again. */
  drain(): CollectorEvent[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.queue.splice(0, this.queue.length);
  }

  /** Stops the timer; call flush() first to send what is queued. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private maxBatch(): number {
    return Math.min(this.options.maxBatch ?? 100, 500);
  }

  private interval(): number {
    return this.options.flushIntervalMs ?? 1_000;
  }

  private backoff(): number {
    const min = this.options.retryMinMs ?? 500;
    const max = this.options.retryMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.max(0, this.failures - 1));
    return base / 2 + Math.random() * (base / 2); // jitter: many clients must not retry in step
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendOnce().then(() => {
        if (this.queue.length > 0 && !this.closed) {
          this.schedule(this.failures > 0 ? this.backoff() : 0);
        }
      });
    }, delayMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** One request with the oldest batch; single flight. */
  private sendOnce(): Promise<void> {
    this.inFlight ??= this.send().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async send(): Promise<void> {
    const batch = this.queue.slice(0, this.maxBatch());
    if (batch.length === 0) return;
    const fetchImpl = this.options.fetch ?? fetch;
    let retryAfterMs: number | undefined;
    try {
      const res = await fetchImpl(`${this.options.collectorUrl.replace(/\/$/, '')}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(this.options.writeKey) },
        body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
      });
      await res.text().catch(() => '');
      if (res.ok || res.status === 400) {
        this.remove(batch);
        if (res.ok) this.delivered += batch.length;
        else this.rejected += batch.length;
        this.failures = 0;
        return;
      }
      const after = Number(res.headers.get('retry-after'));
      if (after > 0) retryAfterMs = after * 1000;
      throw new Error(`collector answered ${res.status}`);
    } catch (err) {
      this.failures++;
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
      if (retryAfterMs !== undefined) await sleep(Math.min(retryAfterMs, 30_000));
    }
  }

  /** Removes the sent events (the queue may have dropped some of them meanwhile). */
  private remove(batch: CollectorEvent[]): void {
    const sent = new Set(batch);
    let w = 0;
    for (let r = 0; r < this.queue.length; r++) {
      const e = this.queue[r]!;
      if (!sent.has(e)) this.queue[w++] = e;
    }
    this.queue.length = w;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
