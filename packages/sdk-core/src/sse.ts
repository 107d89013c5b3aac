// A server-sent events parser (the WHATWG event-stream format) over text chunks, and a
// streaming GET with fetch: unlike EventSource, fetch can send the Authorization header the
// registry requires, and it exists in browsers and in Node >= 18 alike.

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  /** The last `retry:` the server asked for, in ms. */
  retryMs: number | undefined;

  /** Feeds a chunk of text; returns the messages it completed. */
  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        }
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a comment (keep-alive)
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id') this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    return out;
  }
}

export interface StreamHandlers {
  onOpen(): void;
  onMessage(message: SseMessage): void;
}

/**
 * Reads an event stream until it ends, fails or `signal` aborts. Resolves when the server
 * closes it; rejects on a network error or a non-2xx answer (with `status` on the error).
 */
export async function readEventStream(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  handlers: StreamHandlers,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetchImpl(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  if (!res.ok || !res.body) {
    const error = new Error(`stream answered ${res.status}`) as Error & { status?: number };
    error.status = res.status;
    await res.body?.cancel().catch(() => undefined);
    throw error;
  }
  handlers.onOpen();
  const parser = new SseParser();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const message of parser.push(decoder.decode(value, { stream: true }))) handlers.onMessage(message);
    }
  } finally {
    reader.releaseLock();
  }
}
