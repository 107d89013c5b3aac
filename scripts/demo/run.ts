// The demo end to end, as a library: `make demo` prints it, the end-to-end test asserts it.
// Creates an experiment through the registry's API, assigns simulated users with the SDK, sends
// their traffic through the collector (re-sending some of it as a retrying client would), waits
// until the enricher's facts are in BigQuery (deduplicated events and exposures, attributed
// events, closed windows), then asks the results service for a snapshot and reads it as people
// do: the registry's results report, whose snapshot is also in BigQuery's experiment_results.
// The demo computes no statistic itself.
import type { BigQuery } from '@google-cloud/bigquery';
import { XpNodeClient } from '@xp-platform/node';
import type { ResultsSummary } from '../../services/common/results-summary';
import { readExperimentFacts, type ExperimentFacts } from '../../services/results/facts';
import { buildWorkload, CONVERSION_EVENT, type Expected, type TrackCall, type Workload } from './workload';

export interface DemoOptions {
  registryUrl: string;
  collectorUrl: string;
  adminToken: string;
  writeKey: string;
  bigquery: BigQuery;
  dataset: string;
  users: number;
  /** Conversion rate of the baseline (blue); green converts `trueLift` better. */
  baseRate: number;
  trueLift: number;
  seed: number;
  /** How long to wait for BigQuery to hold everything. */
  timeoutMs: number;
  progress: (message: string) => void;
}

/** What BigQuery holds for the demo's experiment, from the enricher's facts. */
export interface Loaded {
  /** Rows and distinct message ids in `events` and `exposures` for the run's users. */
  events: { rows: number; ids: number };
  exposures: { rows: number; ids: number };
  /** Attributions in experiment_events: the enricher's joins for this experiment. */
  joined: number;
  /** Per variant: closed exposure windows and the units first exposed in them. */
  windows: Record<string, { windows: number; exposedUnits: number }>;
}

export interface DemoResult {
  experimentKey: string;
  sent: number;
  accepted: number;
  duplicates: number;
  /** Distinct events sent; what `events` must hold. */
  uniqueEvents: number;
  expectedJoined: number;
  expected: Record<string, Expected>;
  loaded: Loaded;
  /** The views' sufficient statistics for the experiment, which the results service reads. */
  facts: ExperimentFacts;
  /** The results report's snapshot, as the registry serves it to the console and stakeholders. */
  results: ResultsSummary;
  /** Rows of that snapshot in BigQuery's experiment_results. */
  snapshotRows: number;
  secondsToBigQuery: number;
}

export const VARIANTS = ['blue', 'green'];
export const REVENUE = 'Revenue';
const BATCH = 100;

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const run = `demo-${Date.now().toString(36)}-${o.seed}`;
  const experimentKey = `checkout-button-${run}`;
  const admin = api(o.registryUrl, o.adminToken);

  o.progress(`registry: creating flag and experiment ${experimentKey}`);
  const reviewer = await admin('POST', '/v1/tokens', { name: `${run}-reviewer`, role: 'editor' });
  const sdk = await admin('POST', '/v1/tokens', { name: `${run}-sdk`, role: 'sdk' });
  await admin('POST', '/v1/flags', {
    key: experimentKey,
    type: 'experiment',
    valueType: 'string',
    description: 'Colour of the checkout button (demo)',
    owner: 'bootstrap-admin',
    environments: { production: { enabled: true, defaultValue: 'blue', offValue: 'blue', rules: [] } },
  });
  await admin('POST', '/v1/experiments', {
    key: experimentKey,
    name: 'Checkout button colour',
    hypothesis: 'A green checkout button raises the order rate',
    owner: 'bootstrap-admin',
    flagKey: experimentKey,
    environment: 'production',
    primaryMetrics: [{ event: CONVERSION_EVENT, aggregation: 'conversion', name: 'orders' }],
    secondaryMetrics: [{ event: CONVERSION_EVENT, aggregation: 'sum', name: REVENUE }],
    variants: VARIANTS.map((v) => ({ key: v, weight: 0.5, value: v })),
    attributionWindowHours: 72,
  });
  const transition = async (token: string, to: string) => {
    const { version } = (await admin('GET', `/v1/experiments/${experimentKey}`)) as { version: number };
    await api(o.registryUrl, token)('POST', `/v1/experiments/${experimentKey}/transitions`, { to, version });
    o.progress(`registry: experiment is ${to}`);
  };
  await transition(o.adminToken, 'in_review');
  await transition((reviewer as { token: string }).token, 'approved');
  await transition(o.adminToken, 'running');

  // The SDK evaluates locally with the registry's payload, as an app would.
  const client = new XpNodeClient({
    registryUrl: o.registryUrl,
    sdkToken: (sdk as { token: string }).token,
    environment: 'production',
  });
  await client.refresh();
  const workload = buildWorkload(
    {
      users: o.users,
      run,
      experimentKey,
      conversionRates: { blue: o.baseRate, green: o.baseRate * (1 + o.trueLift) },
      duplicateShare: 0.03,
      seed: o.seed,
    },
    (userId) => client.evaluate(experimentKey, { userId }).variant ?? null,
  );

  const calls = [...workload.exposures, ...workload.conversions];
  o.progress(`collector: sending ${calls.length} events for ${o.users} users`);
  let accepted = await send(o, workload.exposures);
  accepted += await send(o, workload.conversions);
  o.progress(
    `collector: re-sending ${workload.duplicates.length} of them, as a retrying client (new sentAt)`,
  );
  accepted += await send(o, workload.duplicates);
  const sent = calls.length + workload.duplicates.length;
  if (accepted !== sent)
    throw new Error(`the collector accepted ${accepted} of ${sent} events; see its response`);

  const started = Date.now();
  // Every exposure's own `Experiment Viewed` event and every order are attributed.
  const expectedJoined = calls.length;
  const loaded = await waitForBigQuery(o, experimentKey, run, workload, expectedJoined);
  const secondsToBigQuery = (Date.now() - started) / 1000;
  const facts = await readExperimentFacts(o.bigquery, o.dataset, experimentKey);
  if (!facts) throw new Error(`no facts for ${experimentKey} in BigQuery`);

  o.progress('results service: taking a snapshot of the results now (it also refreshes every 30 s)');
  await admin('POST', `/v1/experiments/${experimentKey}/results/refresh`);
  const report = (await admin('GET', `/v1/experiments/${experimentKey}/results`)) as {
    results: ResultsSummary | null;
  };
  const results = report.results;
  // A scheduled refresh may have recorded a later snapshot meanwhile; either describes all the data.
  if (!results || results.snapshotAt < new Date(started).toISOString())
    throw new Error(`the registry has no results for ${experimentKey} after the refresh`);
  const snapshotRows = await waitForSnapshot(o, results.snapshotId);
  return {
    experimentKey,
    sent,
    accepted,
    duplicates: workload.duplicates.length,
    uniqueEvents: calls.length,
    expectedJoined,
    expected: workload.expected,
    loaded,
    facts,
    results,
    snapshotRows,
    secondsToBigQuery,
  };
}

/**
 * Sends the calls in batches of 100, four requests at a time, retrying 429/503 as a client
 * should. A call is stamped with the time it is first sent; a re-sent call keeps that
 * timestamp and gets a new sentAt, so the collector's skew correction shifts it slightly.
 */
async function send(o: DemoOptions, calls: TrackCall[]): Promise<number> {
  const batches: TrackCall[][] = [];
  for (let i = 0; i < calls.length; i += BATCH) batches.push(calls.slice(i, i + BATCH));
  let accepted = 0;
  let done = 0;
  const auth = `Basic ${Buffer.from(`${o.writeKey}:`).toString('base64')}`;
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      const now = new Date().toISOString();
      for (const call of batch) call.timestamp ??= now;
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${o.collectorUrl}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth },
          body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
        });
        const body = (await res.json()) as { accepted?: number };
        if ((res.status === 429 || res.status === 503) && attempt < 20) {
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
          continue;
        }
        if (!res.ok) throw new Error(`collector answered ${res.status}: ${JSON.stringify(body)}`);
        accepted += body.accepted ?? 0;
        break;
      }
      if (++done % 20 === 0) o.progress(`collector: ${done} batches sent`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return accepted;
}

/** Waits until BigQuery holds every fact the workload implies; throws with what is missing. */
async function waitForBigQuery(
  o: DemoOptions,
  experimentKey: string,
  run: string,
  workload: Workload,
  expectedJoined: number,
): Promise<Loaded> {
  const deadline = Date.now() + o.timeoutMs;
  const unique = workload.exposures.length + workload.conversions.length;
  for (;;) {
    const loaded = await readLoaded(o, experimentKey, run);
    const windowsClosed = VARIANTS.every(
      (v) => loaded.windows[v]?.exposedUnits === (workload.expected[v]?.exposed ?? 0),
    );
    if (
      loaded.events.rows >= unique &&
      loaded.exposures.rows >= workload.exposures.length &&
      loaded.joined >= expectedJoined &&
      windowsClosed
    ) {
      return loaded;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `BigQuery did not hold every fact within ${o.timeoutMs / 1000}s: expected ${unique} events, ` +
          `${workload.exposures.length} exposures, ${expectedJoined} joins and closed windows with ` +
          `${JSON.stringify(workload.expected)}; have ${JSON.stringify(loaded)}`,
      );
    }
    o.progress(
      `bigquery: ${loaded.events.rows}/${unique} events, ${loaded.joined}/${expectedJoined} joined, ` +
        `windows ${windowsClosed ? 'closed' : 'still open (they close a window + grace after the traffic)'}`,
    );
    await sleep(3_000);
  }
}

/** Waits until the results service's snapshot is loaded into experiment_results (via Kafka and the sink). */
async function waitForSnapshot(o: DemoOptions, snapshotId: string): Promise<number> {
  const until = Date.now() + 60_000;
  for (;;) {
    const [rows] = await o.bigquery.query({
      query: `SELECT COUNT(*) AS n FROM \`${o.dataset}.experiment_results\` WHERE snapshot_id = @s`,
      params: { s: snapshotId },
    });
    const n = Number((rows as { n: number }[])[0]?.n ?? 0);
    if (n > 0) return n;
    if (Date.now() > until) throw new Error(`snapshot ${snapshotId} is not in experiment_results after 60 s`);
    await sleep(1000);
  }
}

async function readLoaded(o: DemoOptions, experimentKey: string, run: string): Promise<Loaded> {
  const t = (name: string) => `\`${o.dataset}.${name}\``;
  const q = async (query: string) => {
    const [rows] = await o.bigquery.query({ query, params: { e: experimentKey, prefix: `${run}-` } });
    return rows as Record<string, unknown>[];
  };
  const count = (r: Record<string, unknown> | undefined) => ({
    rows: Number(r?.rows ?? 0),
    ids: Number(r?.ids ?? 0),
  });
  const [[events], [exposures], [joined], windows] = await Promise.all([
    q(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS ids FROM ${t('events')} WHERE STARTS_WITH(unit_id, @prefix)`,
    ),
    q(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS ids FROM ${t('exposures')} WHERE experiment_key = @e`,
    ),
    q(`SELECT COUNT(*) AS n FROM ${t('experiment_events')} WHERE experiment_key = @e`),
    q(
      `SELECT variation_id, COUNT(*) AS windows, SUM(exposed_units) AS exposed_units
       FROM ${t('variant_window_metrics')} WHERE experiment_key = @e AND metric IS NULL GROUP BY variation_id`,
    ),
  ]);
  return {
    events: count(events),
    exposures: count(exposures),
    joined: Number(joined?.n ?? 0),
    windows: Object.fromEntries(
      windows.map((w) => [
        String(w.variation_id),
        { windows: Number(w.windows), exposedUnits: Number(w.exposed_units) },
      ]),
    ),
  };
}

/** A tiny JSON client for the registry that throws with the server's message on errors. */
function api(base: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`registry ${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
