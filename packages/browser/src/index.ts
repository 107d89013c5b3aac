// xp for browsers: the shared client, with the payload cached in localStorage (the next page
// load evaluates at once, before the network answers), a persistent anonymous id, and
// exposures and events sent with navigator.sendBeacon when the page is hidden or unloaded.
import {
  XpClient,
  isPayload,
  type EvaluateOptions,
  type EvaluationContext,
  type EvaluationResult,
  type Payload,
  type XpClientOptions,
} from '@xp-platform/sdk-core';
import { uuid } from '@xp-platform/sdk-core';

export * from '@xp-platform/sdk-core';

export const VERSION = '0.1.0';

export interface XpBrowserOptions extends XpClientOptions {
  /** Cache the payload in localStorage (default true). */
  cache?: boolean;
  /** localStorage key prefix (default "xp:"). */
  storagePrefix?: string;
}

export class XpBrowserClient extends XpClient {
  private readonly prefix: string;
  private readonly cache: boolean;
  /** A random id kept in localStorage: the unit for visitors without a userId. */
  readonly anonymousId: string;
  private readonly onHide = () => {
    if (document.visibilityState === 'hidden') this.beacon();
  };
  private readonly onPageHide = () => this.beacon();

  constructor(options: XpBrowserOptions) {
    const prefix = options.storagePrefix ?? 'xp:';
    const cache = options.cache !== false;
    const bootstrap =
      options.bootstrap ?? (cache ? readCached(`${prefix}payload:${options.environment}`) : undefined);
    super({ library: { name: '@xp-platform/browser', version: VERSION }, ...options, bootstrap });
    this.prefix = prefix;
    this.cache = cache;
    this.anonymousId = storedAnonymousId(`${prefix}anonymousId`);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onHide);
    if (typeof window !== 'undefined') window.addEventListener('pagehide', this.onPageHide);
  }

  /** Evaluates with `anonymousId` added to the context when it has none. */
  override evaluate(
    flagKey: string,
    context: EvaluationContext = {},
    options?: EvaluateOptions,
  ): EvaluationResult {
    return super.evaluate(flagKey, this.withAnonymousId(context), options);
  }

  override logExposure(result: EvaluationResult, context: EvaluationContext): boolean {
    return super.logExposure(result, this.withAnonymousId(context));
  }

  withAnonymousId(context: EvaluationContext): EvaluationContext {
    return context.anonymousId === undefined ? { ...context, anonymousId: this.anonymousId } : context;
  }

  /**
   * Sends every queued event with navigator.sendBeacon (which survives the page going away),
   * as text/plain so no CORS preflight is needed; the write key rides in the query string.
   * Answers whether the browser accepted the beacon (else the events stay queued).
   */
  beacon(): boolean {
    const events = this.events;
    if (!events || events.size === 0 || typeof navigator === 'undefined' || !navigator.sendBeacon)
      return false;
    const batch = events.drain();
    const url = `${this.options.collectorUrl!.replace(/\/$/, '')}/v1/batch?writeKey=${encodeURIComponent(this.options.writeKey!)}`;
    // sendBeacon bodies are limited to 64 KiB per page: send in chunks.
    let ok = true;
    for (let i = 0; i < batch.length; i += 100) {
      const body = JSON.stringify({ batch: batch.slice(i, i + 100), sentAt: new Date().toISOString() });
      if (!navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) {
        ok = false;
        for (const e of batch.slice(i)) events.enqueue(e);
        break;
      }
    }
    return ok;
  }

  override async close(deadlineMs?: number): Promise<void> {
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onHide);
    if (typeof window !== 'undefined') window.removeEventListener('pagehide', this.onPageHide);
    await super.close(deadlineMs);
  }

  protected override onPayload(payload: Payload): void {
    if (!this.cache || this.source === 'bootstrap') return;
    try {
      localStorage.setItem(`${this.prefix}payload:${this.options.environment}`, JSON.stringify(payload));
    } catch {
      // storage full or disabled: the cache is an optimisation
    }
  }
}

function readCached(key: string): Payload | undefined {
  try {
    const text = typeof localStorage === 'undefined' ? null : localStorage.getItem(key);
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    return isPayload(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function storedAnonymousId(key: string): string {
  try {
    const existing = localStorage.getItem(key);
    if (existing) return existing;
    const id = uuid();
    localStorage.setItem(key, id);
    return id;
  } catch {
    return uuid();
  }
}

/** Creates a client and starts it; await client.ready() before rendering flag-dependent UI. */
export function createClient(options: XpBrowserOptions): XpBrowserClient {
  return new XpBrowserClient(options).start();
}
