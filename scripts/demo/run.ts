// The demo end to end, as a library: `make demo` prints it, the end-to-end test asserts it.
// Creates an experiment through the registry's API, assigns simulated users with the SDK,
// sends their traffic through the collector and waits until BigQuery's analysts' views
// hold exactly what was accepted.
import type { BigQuery } from '@google-cloud/bigquery';
import { XpClient } from '../../sdk/client';
import { buildWorkload, CONVERSION_EVENT, type TrackCall, type Workload } from './workload';

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

export interface VariantResult {
  variant: string;
  expectedExposed: number;
  expectedConverted: number;
  exposed: number;
  converted: number;
  conversionRate: number;
  lift: number | null;
  z: number | null;
}

export interface DemoResult {
  experimentKey: string;
  sent: number;
  accepted: number;
  duplicates: number;
  lateUsers: number;
  variants: VariantResult[];
  secondsToBigQuery: number;
}

const VARIANTS = ['blue', 'green'];
const BATCH = 100;

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const run = `${Date.now().toString(36)}`;
  const experimentKey = `checkout-button-${run}`;
  const admin = api(o.registryUrl, o.adminToken);

  o.progress(`registry: creating flag and experiment ${experimentKey}`);
  const reviewer = await admin('POST', '/v1/tokens', { name: `demo-reviewer-${run}`, role: 'editor' });
  const sdk = await admin('POST', '/v1/tokens', { name: `demo-sdk-${run}`, role: 'sdk' });
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
    primaryMetrics: [{ event: CONVERSION_EVENT, aggregation: 'conversion' }],
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
  const client = new XpClient({
    registryUrl: o.registryUrl,
    sdkToken: (sdk as { token: string }).token,
    environment: 'production',
  });
  await client.refresh();
  const workload = buildWorkload(
    {
      users: o.users,
      experimentKey,
      conversionRates: { blue: o.baseRate, green: o.baseRate * (1 + o.trueLift) },
      duplicateShare: 0.03,
      lateShare: 0.02,
      now: Date.now(),
      seed: o.seed,
    },
    (userId) => client.evaluate(experimentKey, { userId }).variant ?? null,
  );

  o.progress(`collector: sending ${workload.calls.length} events for ${o.users} users`);
  const accepted = await send(o, workload);
  if (accepted !== workload.calls.length) {
    throw new Error(
      `the collector accepted ${accepted} of ${workload.calls.length} events; see its response`,
    );
  }

  const started = Date.now();
  const variants = await waitForBigQuery(o, experimentKey, workload);
  return {
    experimentKey,
    sent: workload.calls.length,
    accepted,
    duplicates: workload.duplicates,
    lateUsers: workload.lateUsers,
    variants,
    secondsToBigQuery: (Date.now() - started) / 1000,
  };
}

/** Sends the calls in batches of 100, four requests at a time, retrying 429/503 as a client should. */
async function send(o: DemoOptions, workload: Workload): Promise<number> {
  const batches: TrackCall[][] = [];
  for (let i = 0; i < workload.calls.length; i += BATCH) batches.push(workload.calls.slice(i, i + BATCH));
  let accepted = 0;
  let done = 0;
  const auth = `Basic ${Buffer.from(`${o.writeKey}:`).toString('base64')}`;
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
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

async function waitForBigQuery(
  o: DemoOptions,
  experimentKey: string,
  workload: Workload,
): Promise<VariantResult[]> {
  const deadline = Date.now() + o.timeoutMs;
  const expectedExposed = Object.values(workload.expected).reduce((n, v) => n + v.exposed, 0);
  for (;;) {
    const rows = await results(o, experimentKey);
    const exposed = rows.reduce((n, r) => n + r.exposed, 0);
    const complete = VARIANTS.every((v) => {
      const row = rows.find((r) => r.variant === v);
      const want = workload.expected[v] ?? { exposed: 0, converted: 0 };
      return row && row.exposed === want.exposed && row.converted === want.converted;
    });
    if (complete) {
      return rows.map((r) => ({
        ...r,
        expectedExposed: workload.expected[r.variant]?.exposed ?? 0,
        expectedConverted: workload.expected[r.variant]?.converted ?? 0,
      }));
    }
    if (Date.now() > deadline) {
      throw new Error(
        `BigQuery did not reach the expected counts in ${o.timeoutMs / 1000}s: ` +
          `expected ${JSON.stringify(workload.expected)}, have ${JSON.stringify(rows)}`,
      );
    }
    o.progress(`bigquery: ${exposed}/${expectedExposed} exposed units loaded`);
    await sleep(2_000);
  }
}

type Row = Omit<VariantResult, 'expectedExposed' | 'expectedConverted'>;

/** Exposed units from the exposures view, conversions, lift and z from the results view. */
async function results(o: DemoOptions, experimentKey: string): Promise<Row[]> {
  const [job] = await o.bigquery.createQueryJob({
    query: `
      SELECT x.variation_id AS variant, x.exposed_units AS exposed,
             COALESCE(r.converted_units, 0) AS converted, r.conversion_rate, r.conversion_lift, r.conversion_z
      FROM \`${o.dataset}.experiment_variant_exposures\` AS x
      LEFT JOIN \`${o.dataset}.experiment_results\` AS r
        ON r.experiment_key = x.experiment_key AND r.variation_id = x.variation_id AND r.metric = @metric
      WHERE x.experiment_key = @experiment
      ORDER BY variant`,
    params: { experiment: experimentKey, metric: CONVERSION_EVENT },
  });
  const [rows] = await job.getQueryResults();
  return (rows as Record<string, unknown>[]).map((r) => ({
    variant: String(r.variant),
    exposed: Number(r.exposed),
    converted: Number(r.converted),
    conversionRate: Number(r.conversion_rate ?? 0),
    lift: r.conversion_lift === null || r.conversion_lift === undefined ? null : Number(r.conversion_lift),
    z: r.conversion_z === null || r.conversion_z === undefined ? null : Number(r.conversion_z),
  }));
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
