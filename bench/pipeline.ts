// make bench-pipeline: events/s from HTTP to queryable in BigQuery, sustained through every
// service of the running stack (collector → enricher → sink), against the raw append rate of
// the same rows measured in the same run with the sink's Storage Write API client, and the
// backlog of each stage over time (which one limits the pipeline).
// Environment: BENCH_PIPELINE_SECONDS (60), BENCH_PIPELINE_RATE (target events/s, 2000),
// plus the stack's usual address variables. Needs `make up`.
import pino from 'pino';
import { createBigQuery } from '../services/common/bigquery';
import { createKafka } from '../services/common/kafka';
import type { TrackingEvent } from '../services/common/records';
import { TOPICS } from '../services/common/topics';
import { runQuery } from '../services/sink/bigquery-jobs';
import { sinkConfig } from '../services/sink/config';
import { storageEndpoint } from '../services/sink/main';
import { toRow, type Row } from '../services/sink/rows';
import { ensureDataset, ensureTables, tableDefs } from '../services/sink/tables';
import {
  createCommittedStream,
  createWriterClient,
  descriptorOf,
  tablePath,
} from '../services/sink/write-api';

const env = process.env;
const host = env.XP_HOST ?? '127.0.0.1';
const collectorUrl = env.XP_COLLECTOR_URL ?? `http://${host}:${env.COLLECTOR_PORT ?? 7071}`;
const brokers = (env.KAFKA_BROKERS ?? `${host}:${env.KAFKA_PORT ?? 9092}`).split(',');
const endpoint = env.BIGQUERY_API_ENDPOINT ?? `http://${host}:${env.BIGQUERY_PORT ?? 9050}`;
const project = env.BIGQUERY_PROJECT ?? 'xp-local';
const dataset = env.BIGQUERY_DATASET ?? 'xp';
const SECONDS = Number(env.BENCH_PIPELINE_SECONDS ?? 60);
const RATE = Number(env.BENCH_PIPELINE_RATE ?? 2000);
const BATCH = 100;
const run = `pipe-${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = `Basic ${Buffer.from(`${env.XP_WRITE_KEY ?? 'local-dev-key'}:`).toString('base64')}`;

function call(i: number) {
  return {
    type: 'track',
    messageId: `${run}-${i}`,
    userId: `${run}-u${i % 20_000}`,
    event: i % 4 === 0 ? 'Order Completed' : 'Page Viewed',
    timestamp: new Date().toISOString(),
    properties: { value: i % 50, plan: 'pro', path: '/checkout' },
    context: { library: { name: 'bench', version: '1.0.0' }, locale: 'en-GB' },
  };
}

/** The same rows the sink writes for these events, appended raw: the baseline rate. */
async function rawAppendRate(n: number): Promise<number> {
  const bq = createBigQuery({ projectId: project, location: 'US', apiEndpoint: endpoint });
  const ds = await ensureDataset(bq, `bench_pipeline_${Date.now().toString(36)}`, 'US');
  const def = tableDefs().get('events')!;
  await ensureTables(bq, ds, [def], pino({ level: 'warn' }));
  const cfg = sinkConfig({ ...env, BIGQUERY_API_ENDPOINT: endpoint, BIGQUERY_PROJECT: project });
  const client = createWriterClient({ projectId: project, endpoint: storageEndpoint(cfg.env) });
  const now = Date.now();
  const rows = Array.from({ length: n }, (_, i) => {
    const c = call(i);
    const e: TrackingEvent = {
      messageId: c.messageId,
      type: 'track',
      event: c.event,
      userId: c.userId,
      anonymousId: null,
      unitId: c.userId,
      timestamp: now,
      originalTimestamp: now,
      sentAt: now,
      receivedAt: now,
      value: i % 50,
      properties: JSON.stringify(c.properties),
      traits: null,
      context: JSON.stringify(c.context),
      sourceId: 'bench',
    };
    return (toRow(def, e as never, { topic: 't', partition: 0, offset: String(i) }, null) as { row: Row })
      .row;
  });
  const stream = await createCommittedStream(
    client,
    tablePath(project, ds.id!, 'events'),
    descriptorOf(def.fields),
  );
  const chunk = cfg.env.SINK_BATCH_MAX_ROWS;
  const t = performance.now();
  for (let i = 0; i < rows.length; i += chunk) {
    const result = await (
      await stream.send(rows.slice(i, i + chunk).map((r) => r.json) as never, i, 60_000)
    )();
    if (result.kind !== 'ok') throw new Error(`raw append: ${JSON.stringify(result)}`);
  }
  const rate = n / ((performance.now() - t) / 1000);
  stream.close();
  client.close();
  await ds.delete({ force: true });
  return rate;
}

async function main(): Promise<void> {
  const bq = createBigQuery({ projectId: project, location: 'US', apiEndpoint: endpoint });
  const admin = createKafka({ clientId: 'bench-pipeline', brokers, logger: pino({ level: 'warn' }) }).admin();
  await admin.connect();
  const committed = async (groupId: string, topic: string) => {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  };
  const end = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const queryable = async () =>
    Number(
      (
        await runQuery(
          bq,
          `SELECT COUNT(*) AS n FROM \`${dataset}.events\` WHERE STARTS_WITH(message_id, @p)`,
          { p: `${run}-` },
        )
      ).rows[0]?.n ?? 0,
    );
  const stages = async () => ({
    raw: await end(TOPICS.rawEvents),
    enriched: await committed(env.ENRICHER_GROUP_ID ?? 'xp-enricher', TOPICS.rawEvents),
    clean: await end(TOPICS.cleanEvents),
    sunk: await committed(env.SINK_GROUP_ID ?? 'xp-sink', TOPICS.cleanEvents),
    queryable: await queryable(),
  });

  const base = await stages();
  let accepted = 0;
  let sent = 0;
  const t0 = performance.now();
  const samples: string[] = [];
  let sending = true;
  const sampler = (async () => {
    for (;;) {
      await sleep(5000);
      const s = await stages();
      const at = ((performance.now() - t0) / 1000).toFixed(0);
      samples.push(
        `${at.padStart(4)} s  accepted ${String(accepted).padStart(7)}  backlog: enricher ${String(
          s.raw - s.enriched,
        ).padStart(6)}  sink ${String(s.clean - s.sunk).padStart(6)}  not yet queryable ${String(
          accepted - (s.queryable - base.queryable),
        ).padStart(6)}`,
      );
      console.log(samples[samples.length - 1]);
      if (!sending && s.queryable - base.queryable >= accepted) return;
    }
  })();
  const worker = async () => {
    while (performance.now() - t0 < SECONDS * 1000) {
      // Pace to RATE: send a batch when the schedule says it is due.
      const due = ((performance.now() - t0) / 1000) * RATE;
      if (sent >= due) {
        await sleep(5);
        continue;
      }
      const from = sent;
      sent += BATCH;
      const batch = Array.from({ length: BATCH }, (_, k) => call(from + k));
      const res = await fetch(`${collectorUrl}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
      });
      if (res.ok) accepted += ((await res.json()) as { accepted?: number }).accepted ?? 0;
      else await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const sendSeconds = (performance.now() - t0) / 1000;
  sending = false;
  await Promise.race([sampler, sleep(300_000)]);
  const totalSeconds = (performance.now() - t0) / 1000;
  const loaded = (await queryable()) - base.queryable;
  const pipelineRate = loaded / totalSeconds;
  const raw = await rawAppendRate(Math.min(accepted, 50_000));
  await admin.disconnect();
  console.log(
    JSON.stringify(
      {
        targetRate: RATE,
        sendSeconds: Number(sendSeconds.toFixed(1)),
        accepted,
        queryable: loaded,
        secondsUntilAllQueryable: Number(totalSeconds.toFixed(1)),
        pipelineEventsPerSec: Math.round(pipelineRate),
        acceptedEventsPerSec: Math.round(accepted / sendSeconds),
        rawAppendRowsPerSec: Math.round(raw),
      },
      null,
      2,
    ),
  );
  console.log(`ratio pipeline / raw append: ${(pipelineRate / raw).toFixed(2)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
