// Steady load against an in-process collector while the local broker is stopped and
// started again; shared by the short integration test and the longer chaos run.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TrackingEvent } from '../../../services/common/records';
import { readAll, send, type Harness } from './harness';

const run = promisify(execFile);
const KAFKA_SH = join(__dirname, '../../../infra/local/kafka.sh');

export const kafkaCtl = (action: 'stop' | 'start') =>
  run('bash', [KAFKA_SH, action], { timeout: 120_000 }).then(() => undefined);

export interface OutageOptions {
  workers: number;
  batchSize: number;
  loadBeforeMs: number;
  outageMs: number;
  /** How long after the broker is back the collector may take to acknowledge again. */
  recoveryTimeoutMs: number;
  loadAfterMs: number;
}

export interface OutageReport {
  acked: string[];
  /** Requests by HTTP status. */
  statuses: Record<number, number>;
  /** 503 answers without a Retry-After header. */
  missingRetryAfter: number;
  /** Other failures (network errors, unexpected bodies), described. */
  anomalies: string[];
  slowestMs: number;
  notReadyDuringOutage: boolean;
  readyAfter: boolean;
  recoveredMs: number | null;
  /** Per messageId of a 2xx event, how often it is in the raw topic. */
  copies: Map<string, number>;
}

/** Runs the scenario; the broker is started again whatever happens. */
export async function brokerOutage(h: Harness, o: OutageOptions): Promise<OutageReport> {
  const acked: string[] = [];
  const statuses: Record<number, number> = {};
  const anomalies: string[] = [];
  let missingRetryAfter = 0;
  let slowestMs = 0;
  let lastAckAt = 0;
  let stopping = false;
  const runId = Date.now().toString(36);

  const worker = async (w: number) => {
    for (let seq = 0; !stopping; seq++) {
      const ids = Array.from({ length: o.batchSize }, (_, i) => `${runId}-${w}-${seq}-${i}`);
      const batch = ids.map((messageId, i) => ({
        type: 'track',
        messageId,
        userId: `user-${w}-${i % 5}`,
        event: 'Load',
        properties: { seq },
      }));
      const started = Date.now();
      try {
        const res = await send(h, '/v1/batch', { batch });
        slowestMs = Math.max(slowestMs, Date.now() - started);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) {
          acked.push(...ids);
          lastAckAt = Date.now();
        } else if (res.status === 503) {
          if (!res.headers.get('retry-after')) missingRetryAfter++;
          await sleep(100); // a client backs off (less than Retry-After, to keep probing)
        } else {
          anomalies.push(`${res.status} ${JSON.stringify(res.json)}`);
        }
      } catch (err) {
        anomalies.push(`request failed: ${(err as Error).message}`);
      }
    }
  };

  const workers = Array.from({ length: o.workers }, (_, w) => worker(w));
  let notReadyDuringOutage = false;
  let recoveredMs: number | null = null;
  try {
    await sleep(o.loadBeforeMs);
    await kafkaCtl('stop');
    const outageEnds = Date.now() + o.outageMs;
    while (Date.now() < outageEnds) {
      const ready = await fetch(`${h.url}/readyz`);
      if (ready.status === 503) notReadyDuringOutage = true;
      await sleep(500);
    }
    await kafkaCtl('start');
    const restartedAt = Date.now();
    while (lastAckAt < restartedAt && Date.now() - restartedAt < o.recoveryTimeoutMs) await sleep(100);
    if (lastAckAt >= restartedAt) recoveredMs = lastAckAt - restartedAt;
    await sleep(o.loadAfterMs);
  } finally {
    stopping = true;
    await Promise.all(workers);
    await kafkaCtl('start'); // idempotent: a no-op when it is running
  }
  const readyAfter = await waitFor(async () => (await fetch(`${h.url}/readyz`)).status === 200, 30_000);
  const copies = new Map<string, number>();
  for (const r of await readAll<TrackingEvent>(h, h.topics.rawEvents, 60_000)) {
    copies.set(r.value.messageId, (copies.get(r.value.messageId) ?? 0) + 1);
  }
  return {
    acked,
    statuses,
    missingRetryAfter,
    anomalies,
    slowestMs,
    notReadyDuringOutage,
    readyAfter,
    recoveredMs,
    copies,
  };
}

/** The assertions both suites make about a report. */
export function expectDurable(report: OutageReport, produceTimeoutMs: number): void {
  expect(report.anomalies).toEqual([]);
  expect(Object.keys(report.statuses).sort()).toEqual(['200', '503']);
  expect(report.missingRetryAfter).toBe(0);
  // Never a hang: a request is answered within the produce timeout plus processing.
  expect(report.slowestMs).toBeLessThan(produceTimeoutMs + 2_000);
  expect(report.notReadyDuringOutage).toBe(true);
  expect(report.recoveredMs).not.toBeNull();
  expect(report.readyAfter).toBe(true);
  // Every event answered 2xx is in Kafka exactly once.
  const wrong = report.acked.filter((id) => report.copies.get(id) !== 1);
  expect(wrong.map((id) => `${id}: ${report.copies.get(id) ?? 0} copies`)).toEqual([]);
  expect(report.acked.length).toBeGreaterThan(0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
}
