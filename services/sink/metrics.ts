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
      help: 'Rows BigQuery confirmed (MERGEd), by table; replays are counted again',
      labelNames: ['table'],
      registers: [registry],
    }),
    rowsInserted: new Counter({
      name: 'xp_sink_rows_inserted_total',
      help: 'Rows new to their table (the MERGE inserted them), by table',
      labelNames: ['table'],
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
    batchSeconds: new Histogram({
      name: 'xp_sink_batch_duration_seconds',
      help: 'Time to load one table batch (staging, MERGE), by table',
      labelNames: ['table'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'xp_sink_flush_duration_seconds',
      help: 'Time from the start of a flush to the commit of its offsets',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    bufferedRows: new Gauge({
      name: 'xp_sink_buffered_rows',
      help: 'Rows waiting for the next flush',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'xp_sink_consumer_lag',
      help: 'Records not yet committed (high watermark - committed offset), by topic and partition',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
  };
}

export type SinkMetrics = ReturnType<typeof sinkMetrics>;
