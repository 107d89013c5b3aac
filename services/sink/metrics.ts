import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The sink's Prometheus series (names prefixed xp_sink_). */
export function sinkMetrics(registry: Registry) {
  return {
    recordsConsumed: new Counter({
      name: 'xp_sink_records_consumed_total',
      help: 'Kafka records read, by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    rowsLoaded: new Counter({
      name: 'xp_sink_rows_loaded_total',
      help: 'Rows BigQuery acknowledged (appended to a committed stream), by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    rowsSkipped: new Counter({
      name: 'xp_sink_rows_skipped_total',
      help: 'Replayed rows not appended because the table already held them (after a crash or rebalance), by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    appendRequests: new Counter({
      name: 'xp_sink_append_requests_total',
      help: 'AppendRows requests sent (retries included), by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    streamsCreated: new Counter({
      name: 'xp_sink_streams_created_total',
      help: 'Committed write streams created, by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    recoveries: new Counter({
      name: 'xp_sink_recoveries_total',
      help: 'Partition recoveries by table and mode (finalize: counted by the stream; row_offsets: the stream was lost, the rows in the table were read)',
      labelNames: ['table', 'mode'],
      registers: [registry],
    }),
    rowsFailed: new Counter({
      name: 'xp_sink_rows_failed_total',
      help: 'Records sent to failed_events by the sink, by reason code',
      labelNames: ['code'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'xp_sink_errors_total',
      help: 'Errors, by kind (bigquery_transient, bigquery_invalid, bigquery_fatal, commit, ...)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'xp_sink_append_duration_seconds',
      help: 'Time to append one flush of one partition to one table, retries included, by table',
      labelNames: ['table'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'xp_sink_flush_duration_seconds',
      help: 'Time from the start of a partition flush to the commit of its offset',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    bufferedRows: new Gauge({
      name: 'xp_sink_buffered_rows',
      help: 'Rows waiting for the next flush',
      registers: [registry],
    }),
    partitionsFailing: new Gauge({
      name: 'xp_sink_partitions_failing',
      help: 'Partitions whose writes are being retried now',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'xp_sink_consumer_lag',
      help: 'Records not yet committed (high watermark - committed offset), by topic and partition; refreshed every few seconds, also while a partition is stuck',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
  };
}

export type SinkMetrics = ReturnType<typeof sinkMetrics>;
