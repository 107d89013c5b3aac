// xp for Node.js: the shared client, plus a payload file for bootstrapping without the
// registry (written on every change, read at start) and a flush when the process exits.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { XpClient, isPayload, type Payload, type XpClientOptions } from '@xp-platform/sdk-core';

export * from '@xp-platform/sdk-core';

export const VERSION = '0.1.0';

export interface XpNodeOptions extends XpClientOptions {
  /**
   * A file holding the last payload: read at start as the bootstrap (so the app serves flags
   * while the registry is unreachable), rewritten atomically after every change.
   */
  bootstrapFile?: string;
  /** Flush queued events when the process is about to exit (default true). */
  flushOnExit?: boolean;
}

export class XpNodeClient extends XpClient {
  private readonly file: string | undefined;
  private readonly onExit = () => void this.flush(2_000);

  constructor(options: XpNodeOptions) {
    const bootstrap =
      options.bootstrap ?? (options.bootstrapFile ? readPayloadFile(options.bootstrapFile) : undefined);
    super({ library: { name: '@xp-platform/node', version: VERSION }, ...options, bootstrap });
    this.file = options.bootstrapFile;
    if (options.flushOnExit !== false) process.once('beforeExit', this.onExit);
  }

  override async close(deadlineMs?: number): Promise<void> {
    process.off('beforeExit', this.onExit);
    await super.close(deadlineMs);
  }

  protected override onPayload(payload: Payload): void {
    if (!this.file || this.source === 'bootstrap') return;
    try {
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(payload));
      renameSync(tmp, this.file);
    } catch (err) {
      this.emit('error', err);
    }
  }
}

/** A payload saved by getPayload() or bootstrapFile; undefined when absent or unreadable. */
export function readPayloadFile(path: string): Payload | undefined {
  try {
    if (!existsSync(path)) return undefined;
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isPayload(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Creates a client and starts it (stream, or polling); await client.ready() before serving. */
export function createClient(options: XpNodeOptions): XpNodeClient {
  return new XpNodeClient(options).start();
}
