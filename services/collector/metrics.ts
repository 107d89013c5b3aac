import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PublisherMetrics } from './publisher';

/** The collector's own series (the kit's registry adds process metrics and the service label). */
export function collectorMetrics(registry: Registry, inFlight: () => number) {
  const registers = [registry];
  const produceSeconds = new Histogram({
    name: 'collector_produce_duration_seconds',
    help: 'Time from sendBatch to the acks=all acknowledgement, per batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const produceRecords = new Histogram({
    name: 'collector_produce_batch_records',
    help: 'Records per sendBatch (requests coalesced by the publisher)',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers,
  });
  const produceFailures = new Counter({
    name: 'collector_produce_failed_records_total',
    help: 'Records Kafka did not acknowledge, by reason (overloaded, timeout, failed, closed)',
    labelNames: ['reason'],
    registers,
  });
  new Gauge({
    name: 'collector_in_flight_records',
    help: 'Records accepted for production and not yet acknowledged',
    registers,
    collect() {
      this.set(inFlight());
    },
  });
  const publisher: PublisherMetrics = {
    flushed(seconds, records) {
      produceSeconds.observe(seconds);
      produceRecords.observe(records);
    },
    failed(reason, records) {
      produceFailures.inc({ reason }, records);
    },
  };
  return {
    publisher,
    accepted: new Counter({
      name: 'collector_events_accepted_total',
      help: 'Events written to Kafka, by call type',
      labelNames: ['type'],
      registers,
    }),
    rejected: new Counter({
      name: 'collector_events_rejected_total',
      help: 'Events rejected and written to the failed-events topic, by the code of their first reason',
      labelNames: ['reason'],
      registers,
    }),
    requests: new Counter({
      name: 'collector_requests_total',
      help: 'HTTP requests by route, status and outcome code',
      labelNames: ['route', 'status', 'code'],
      registers,
    }),
    batchEvents: new Histogram({
      name: 'collector_request_events',
      help: 'Events per request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers,
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
