// The Storage Write API, as the sink uses it: one committed write stream per (input
// partition, table), appends at explicit offsets, finalize to fence writers and count rows.
//
// The managed writer sends requests without flow control and with its own retries off;
// the sink's retry policy (retry.ts) decides, append by append, using the in-band result:
// ALREADY_EXISTS (that offset is written) and OUT_OF_RANGE (a gap) arrive as a resolved
// result with `error.code`, not as a rejection.

import { adapt, managedwriter, protos } from '@google-cloud/bigquery-storage';
import { Status, grpc } from 'google-gax';
import type { JSONList } from '@google-cloud/bigquery-storage/build/src/managedwriter/json_writer';
import type { StreamConnection } from '@google-cloud/bigquery-storage/build/src/managedwriter/stream_connection';
import { SinkError, describe, toSinkError } from './errors';
import type { BqField } from './bigquery-schema';

type WriterClient = managedwriter.WriterClient;
type DescriptorProto = protos.google.protobuf.IDescriptorProto;

export interface WriteApiOptions {
  projectId: string;
  /** host:port of an emulator's gRPC port (plaintext, no credentials); unset: Google's API. */
  endpoint?: string;
}

export function createWriterClient({ projectId, endpoint }: WriteApiOptions): WriterClient {
  if (!endpoint) return new managedwriter.WriterClient({ projectId });
  const [host, port] = splitHostPort(endpoint);
  return new managedwriter.WriterClient({
    apiEndpoint: host,
    port,
    sslCreds: grpc.credentials.createInsecure(),
    // Without it google-gax probes the GCE metadata server for a universe domain.
    universeDomain: 'googleapis.com',
    projectId,
  });
}

function splitHostPort(endpoint: string): [string, number] {
  const url = new URL(endpoint.includes('://') ? endpoint : `grpc://${endpoint}`);
  return [url.hostname, Number(url.port || 443)];
}

export function tablePath(projectId: string, dataset: string, table: string): string {
  return `projects/${projectId}/datasets/${dataset}/tables/${table}`;
}

/** The proto descriptor of the columns the sink writes (its own schema, not the table's). */
export function descriptorOf(fields: BqField[]): DescriptorProto {
  const storage = adapt.convertBigQuerySchemaToStorageTableSchema({ fields });
  return adapt.convertStorageSchemaToProto2Descriptor(storage, 'root');
}

/** What became of one append request. */
export type AppendResult =
  | { kind: 'ok' }
  /** The offset was already written: success for a replayed request, an error otherwise. */
  | { kind: 'already_exists' }
  /** BigQuery refused some rows; nothing of the request was written. */
  | { kind: 'row_errors'; rows: { index: number; message: string }[] };

/** Creates a committed stream; its rows are visible as soon as each append is acknowledged. */
export async function createCommittedStream(
  client: WriterClient,
  table: string,
  descriptor: DescriptorProto,
): Promise<CommittedStream> {
  let name: string;
  try {
    name = await client.createWriteStream({
      streamType: managedwriter.CommittedStream,
      destinationTable: table,
    });
  } catch (err) {
    throw toSinkError(err, `create write stream on ${table}`);
  }
  return new CommittedStream(client, name, descriptor);
}

/** Finalizes a stream (no writer can append to it any more) and returns its row count. */
export async function finalizeStream(client: WriterClient, name: string): Promise<number> {
  try {
    const res = await client.finalizeWriteStream({ name });
    return Number(res.rowCount ?? 0);
  } catch (err) {
    throw toSinkError(err, `finalize ${name}`);
  }
}

export class CommittedStream {
  private connection: StreamConnection | undefined;
  private writer: managedwriter.JSONWriter | undefined;
  lastAppendAt = Date.now();

  constructor(
    private readonly client: WriterClient,
    readonly name: string,
    private readonly descriptor: DescriptorProto,
  ) {}

  private async open(): Promise<managedwriter.JSONWriter> {
    if (this.writer && this.connection?.isOpen()) return this.writer;
    this.close();
    const connection = await this.client.createStreamConnection({ streamId: this.name });
    // Without a listener a connection error is thrown as an unhandled 'error' event; the
    // pending appends are failed by the library and retried by us.
    connection.onConnectionError(() => undefined);
    this.connection = connection;
    this.writer = new managedwriter.JSONWriter({ connection, protoDescriptor: this.descriptor });
    return this.writer;
  }

  /**
   * Sends rows to be written at `offset` and returns a promise of the outcome; several may
   * be in flight on the connection. Rejects with a SinkError for anything but the results
   * above (OUT_OF_RANGE: 'offset_gap'; stream finalized or unknown: 'stream_lost').
   */
  async send(rows: JSONList, offset: number, timeoutMs: number): Promise<() => Promise<AppendResult>> {
    const writer = await this.open().catch((err: unknown) => {
      throw toSinkError(err, `connect to ${this.name}`);
    });
    let pending: ReturnType<managedwriter.JSONWriter['appendRows']>;
    try {
      pending = writer.appendRows(rows, offset);
    } catch (err) {
      // The encoder refused a value the mapping let through: a bad row.
      throw new SinkError('invalid', `encode rows: ${describe(err)}`, err);
    }
    this.lastAppendAt = Date.now();
    return () => this.outcome(pending.getResult(), offset, timeoutMs);
  }

  private async outcome(
    result: Promise<protos.google.cloud.bigquery.storage.v1.IAppendRowsResponse>,
    offset: number,
    timeoutMs: number,
  ): Promise<AppendResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A connection that stopped answering: drop it, the retry opens a new one.
        this.close();
        reject(
          new SinkError('transient', `append to ${this.name} at ${offset}: no answer in ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
    let res: protos.google.cloud.bigquery.storage.v1.IAppendRowsResponse;
    try {
      res = await Promise.race([result, timeout]);
    } catch (err) {
      if (!(err instanceof SinkError)) this.close();
      throw toSinkError(err, `append to ${this.name} at ${offset}`);
    } finally {
      clearTimeout(timer);
    }
    if (res.rowErrors && res.rowErrors.length > 0) {
      return {
        kind: 'row_errors',
        rows: res.rowErrors.map((r) => ({
          index: Number(r.index ?? 0),
          message: `${String(r.code)} ${r.message ?? ''}`,
        })),
      };
    }
    const code = res.error?.code ?? Status.OK;
    if (code === Status.OK) return { kind: 'ok' };
    if (code === Status.ALREADY_EXISTS) return { kind: 'already_exists' };
    throw toSinkError({ code, message: res.error?.message ?? '' }, `append to ${this.name} at ${offset}`);
  }

  close(): void {
    try {
      this.writer?.close();
    } catch {
      // already closed
    }
    this.writer = undefined;
    this.connection = undefined;
  }
}
