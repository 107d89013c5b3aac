// Test-only crash points (SINK_FAILPOINT=<point>:<n>): the n-th time the sink reaches the
// point it kills itself with SIGKILL, so the exactly-once tests can crash it at the exact
// moments that matter instead of at random times. Unset in production: a no-op.

export type FailpointName =
  /** Rows are ready and the stream is registered, nothing sent yet. */
  | 'before-append'
  /** An append was sent; its acknowledgement has not been read. */
  | 'after-send'
  /** Every append of a flush is acknowledged; the Kafka commit has not been sent. */
  | 'after-ack'
  /** Recovery finalized the previous stream; no new stream is registered yet. */
  | 'recovery';

export class Failpoints {
  private hits = 0;
  constructor(
    private readonly name: FailpointName | null,
    private readonly at: number,
  ) {}

  static parse(spec: string | undefined): Failpoints {
    if (!spec) return new Failpoints(null, 0);
    const [name, n] = spec.split(':');
    return new Failpoints(name as FailpointName, Number(n ?? 1));
  }

  reach(name: FailpointName): void {
    if (name !== this.name) return;
    this.hits += 1;
    if (this.hits === this.at) process.kill(process.pid, 'SIGKILL');
  }
}
