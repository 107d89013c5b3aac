// The SDK client shared by the Node and browser packages: keeps the registry's payload up to
// date (SSE stream with reconnect and backoff; polling with ETags while the stream is down),
// evaluates flags locally with the evaluation core, logs each exposure once, and batches
// events to the collector.
import { evaluate, type EvaluationContext, type EvaluationResult } from '@xp-platform/evaluation';
import { EventQueue, type EventInput } from './events';
import { ExposureLog } from './exposure-log';
import { changedFlags, isPayload, type Payload } from './payload';
import { readEventStream } from './sse';

export interface XpClientOptions {
  /** e.g. http://127.0.0.1:7070; without it the client serves its bootstrap payload only. */
  registryUrl?: string;
  /** A registry token with the `sdk` role. */
  sdkToken?: string;
  environment: string;
  /** Where exposures and events go (e.g. http://127.0.0.1:7071); without it nothing is sent. */
  collectorUrl?: string;
  writeKey?: string;
  /** A saved payload (getPayload()) to serve until the registry answers, or without it. */
  bootstrap?: Payload;
  /** Updates over the registry's SSE stream (default); false polls only. */
  streaming?: boolean;
  /** Polling period while the stream is down, or always when streaming is false. */
  pollIntervalMs?: number;
  /** ready() rejects after this long without any payload. */
  readyTimeoutMs?: number;
  /** Reconnect backoff of the stream: min, doubling per failure, capped at max (with jitter). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Log `Experiment Viewed` on evaluate() (default true). */
  logExposures?: boolean;
  /** Event queue tuning (batch size, bound, flush interval). */
  events?: { maxBatch?: number; maxQueue?: number; flushIntervalMs?: number };
  fetch?: typeof fetch;
  library?: { name: string; version: string };
}

export type XpEvent = 'ready' | 'change' | 'error' | 'connected' | 'disconnected';
type Listener = (detail: unknown) => void;

export class XpTimeoutError extends Error {
  constructor(ms: number) {
    super(`no payload from the registry within ${ms} ms`);
    this.name = 'XpTimeoutError';
  }
}

export interface EvaluateOptions {
  /** Overrides the client's logExposures for this call. */
  logExposure?: boolean;
}

export class XpClient {
  protected payload: Payload | undefined;
  private etag: string | undefined;
  private readonly listeners = new Map<XpEvent, Set<Listener>>();
  private readonly exposures = new ExposureLog();
  readonly events: EventQueue | undefined;
  private readyPromise: Promise<void> | undefined;
  private resolveReady!: () => void;
  private started = false;
  private closed = false;
  private abort: AbortController | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private streamFailures = 0;
  /** Whether the stream is open now. */
  streaming = false;
  /** Where the current payload came from. */
  source: 'none' | 'bootstrap' | 'stream' | 'poll' = 'none';

  constructor(protected readonly options: XpClientOptions) {
    const ready = new Promise<void>((resolve) => (this.resolveReady = resolve));
    this.readyPromise = ready;
    if (options.collectorUrl && options.writeKey) {
      this.events = new EventQueue({
        collectorUrl: options.collectorUrl,
        writeKey: options.writeKey,
        fetch: options.fetch,
        library: options.library,
        onError: (e) => this.emit('error', e),
        ...options.events,
      });
    }
    if (options.bootstrap && isPayload(options.bootstrap)) this.setPayload(options.bootstrap, 'bootstrap');
  }

  /** Starts fetching (stream or polling). Idempotent; ready() calls it. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    if (!this.options.registryUrl) return this;
    if (this.options.streaming === false) void this.poll();
    else void this.streamLoop();
    return this;
  }

  /**
   * Resolves once a payload is available (bootstrap, stream or poll); rejects with
   * XpTimeoutError after readyTimeoutMs (default 5 s) without one. The client keeps trying.
   */
  ready(timeoutMs = this.options.readyTimeoutMs ?? 5_000): Promise<void> {
    this.start();
    if (this.payload) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new XpTimeoutError(timeoutMs)), timeoutMs);
      void this.readyPromise!.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The current payload, to save and pass back as `bootstrap` later. */
  getPayload(): Payload | undefined {
    return this.payload;
  }

  on(event: XpEvent, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Evaluates a flag locally. Logs an exposure the first time a unit lands in a variant. */
  evaluate(flagKey: string, context: EvaluationContext, options: EvaluateOptions = {}): EvaluationResult {
    const payload = this.payload;
    if (!payload || !Object.hasOwn(payload.flags, flagKey)) {
      return { value: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' };
    }
    // A malformed entry still goes to the core, which answers ERROR / GENERAL.
    const result = evaluate(payload.flags[flagKey]!, context, {
      environment: this.options.environment,
      segments: payload.segments,
      flags: payload.flags,
    });
    if (options.logExposure ?? this.options.logExposures ?? true) this.logExposure(result, context);
    return result;
  }

  /** The flag's value, or `defaultValue` when it cannot be evaluated. */
  value<T>(flagKey: string, context: EvaluationContext, defaultValue: T): T {
    const r = this.evaluate(flagKey, context);
    return r.reason === 'ERROR' || r.value === null ? defaultValue : (r.value as T);
  }

  /** Queues `Experiment Viewed` for a SPLIT result, once per unit, experiment and variant. */
  logExposure(result: EvaluationResult, context: EvaluationContext): boolean {
    const exp = result.experiment;
    if (!exp || !this.events) return false;
    const who = identity(context);
    if (!who) return false;
    if (!this.exposures.firstTime(who.userId ?? who.anonymousId!, exp.key, exp.variationId)) return false;
    this.events.enqueue({
      event: 'Experiment Viewed',
      ...who,
      properties: { experiment_id: exp.key, variation_id: exp.variationId, phase: exp.phase },
    });
    return true;
  }

  /** Queues a Segment track call for the collector. */
  track(input: EventInput): void {
    this.events?.enqueue({ type: 'track', ...input });
  }

  /** Sends queued events now. */
  async flush(deadlineMs?: number): Promise<void> {
    await this.events?.flush(deadlineMs);
  }

  /** Stops streaming and polling, then flushes queued events. */
  async close(deadlineMs = 10_000): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    clearTimeout(this.pollTimer);
    this.events?.close();
    await this.flush(deadlineMs);
  }

  protected setPayload(payload: Payload, source: XpClient['source']): void {
    const before = this.payload;
    this.payload = payload;
    this.source = source;
    if (!before) {
      this.resolveReady();
      this.emit('ready', { source });
    }
    const changed = changedFlags(before, payload);
    if (before && changed.length > 0) this.emit('change', { flagsChanged: changed, source });
    this.onPayload(payload);
  }

  /** For subclasses: persist the payload (localStorage, a file). */
  protected onPayload(_payload: Payload): void {}

  protected emit(event: XpEvent, detail: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(detail);
      } catch {
        // a listener's error must not break the client
      }
    }
  }

  private headers(): Record<string, string> {
    return this.options.sdkToken ? { authorization: `Bearer ${this.options.sdkToken}` } : {};
  }

  private url(path: string): string {
    const base = this.options.registryUrl!.replace(/\/$/, '');
    return `${base}${path}?environment=${encodeURIComponent(this.options.environment)}`;
  }

  /** One GET of the payload with If-None-Match; answers whether it changed. */
  async refresh(): Promise<boolean> {
    const res = await (this.options.fetch ?? fetch)(this.url('/sdk/v1/payload'), {
      headers: { ...this.headers(), ...(this.etag ? { 'if-none-match': this.etag } : {}) },
    });
    if (res.status === 304) return false;
    if (!res.ok) throw new Error(`registry answered ${res.status}`);
    const body: unknown = await res.json();
    if (!isPayload(body)) throw new Error('registry sent a payload of the wrong shape');
    this.etag = res.headers.get('etag') ?? undefined;
    this.setPayload(body, 'poll');
    return true;
  }

  private async poll(): Promise<void> {
    this.pollTimer = undefined;
    if (this.closed) return;
    try {
      await this.refresh();
    } catch (err) {
      this.emit('error', err);
    }
    // Polls while streaming is off, or while the stream is down.
    if (!this.closed && (this.options.streaming === false || !this.streaming)) {
      this.pollTimer = setTimeout(() => void this.poll(), this.options.pollIntervalMs ?? 30_000);
      (this.pollTimer as { unref?: () => void }).unref?.();
    }
  }

  private async streamLoop(): Promise<void> {
    while (!this.closed) {
      this.abort = new AbortController();
      try {
        await readEventStream(
          this.options.fetch ?? fetch,
          this.url('/sdk/v1/stream'),
          this.headers(),
          {
            onOpen: () => {
              this.streaming = true;
              this.streamFailures = 0;
              clearTimeout(this.pollTimer);
              this.pollTimer = undefined;
              this.emit('connected', {});
            },
            onMessage: (m) => {
              if (m.event !== 'payload') return;
              try {
                const body: unknown = JSON.parse(m.data);
                if (isPayload(body)) {
                  this.etag = m.id;
                  this.setPayload(body, 'stream');
                }
              } catch (err) {
                this.emit('error', err);
              }
            },
          },
          this.abort.signal,
        );
      } catch (err) {
        if (this.closed) return;
        this.emit('error', err);
        // 401/403/404: the token or the URL is wrong; streaming will not recover, so poll.
        const status = (err as { status?: number }).status;
        if (status === 401 || status === 403 || status === 404) {
          this.streaming = false;
          void this.poll();
          return;
        }
      }
      if (this.closed) return;
      if (this.streaming) this.emit('disconnected', {});
      this.streaming = false;
      this.streamFailures++;
      // While the stream is down, poll so that changes still arrive (fallback).
      if (this.pollTimer === undefined && this.streamFailures >= 2) void this.poll();
      else if (!this.payload) void this.refresh().catch(() => undefined);
      await sleep(this.reconnectDelay());
    }
  }

  private reconnectDelay(): number {
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.max(0, this.streamFailures - 1));
    return base / 2 + Math.random() * (base / 2);
  }
}

/** The unit an exposure is logged for: userId, else anonymousId. */
function identity(context: EvaluationContext): { userId?: string; anonymousId?: string } | undefined {
  const userId = typeof context.userId === 'string' && context.userId ? context.userId : undefined;
  if (userId) return { userId };
  const anonymousId =
    typeof context.anonymousId === 'string' && context.anonymousId ? context.anonymousId : undefined;
  return anonymousId ? { anonymousId } : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
