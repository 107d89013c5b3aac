import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Counters } from './processor';

/** The enricher's Prometheus series (README.md lists them). */
export function enricherMetrics(registry: Registry) {
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: `xp_enricher_${name}`, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name: `xp_enricher_${name}`, help, labelNames, registers });
  const m = {
    lag: gauge(
      'consumer_lag',
      'Records on the input partition not yet processed (committed position to high watermark)',
      ['topic', 'partition'],
    ),
    watermark: gauge(
      'watermark_ms',
      'Event-time watermark of the partition (stream time minus grace), epoch ms',
      ['partition'],
    ),
    openWindows: gauge('open_windows', 'Window accumulators not yet closed', ['partition']),
    stateSize: gauge('state_assignments', 'Assignment entries (unit, experiment, phase) held in memory', [
      'partition',
    ]),
    held: gauge('held_records', 'Input records waiting for the merge (reorder allowance)', [
      'input',
      'partition',
    ]),
    dedupeIds: gauge('dedupe_ids', 'messageIds remembered for deduplication (events and exposures)', [
      'partition',
    ]),
    experiments: gauge('experiments', 'Experiments in the registry table'),
    events: counter('events_total', 'Raw events processed'),
    exposures: counter('exposures_total', 'Exposures applied'),
    duplicateEvents: counter(
      'duplicate_events_total',
      'Event copies dropped (messageId seen within the horizon)',
    ),
    duplicateExposures: counter(
      'duplicate_exposures_total',
      'Exposure copies dropped (messageId seen within the horizon)',
    ),
    idleAdvances: counter(
      'idle_advances_total',
      'Idle partitions whose stream time followed the wall clock to close quiet windows',
    ),
    joined: counter(
      'joined_total',
      'Enriched events produced (one per event and attributed experiment): the join rate',
    ),
    lateEvents: counter('late_events_total', 'Events whose window had closed (beyond grace)'),
    lateExposures: counter(
      'late_exposures_total',
      'First exposures whose window had closed (not in the exposure row)',
    ),
    multiVariant: counter(
      'multi_variant_units_total',
      'Assignments that saw a second variant (excluded from aggregates)',
    ),
    unknownExperiment: counter(
      'unknown_experiment_exposures_total',
      'Exposures of experiments not in the registry',
    ),
    notRunning: counter('not_running_exposures_total', 'Exposures outside every phase of their experiment'),
    expired: counter(
      'expired_assignments_total',
      'Assignments expired after the attribution window of inactivity',
    ),
    failed: counter('failed_records_total', 'Undecodable input records sent to the failed-events topic'),
    windowsEmitted: counter('windows_emitted_total', 'Final window aggregates emitted'),
    transactions: counter('transactions_total', 'Kafka transactions by outcome', ['outcome']),
    restores: counter('restores_total', 'Partition states restored from the changelog'),
    restoredRecords: counter('restored_records_total', 'Changelog records read while restoring'),
    transactionSeconds: new Histogram({
      name: 'xp_enricher_transaction_seconds',
      help: 'Duration of one transaction (produce, offsets, commit)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
  return {
    ...m,
    /** Adds a processor's counters since the last call. */
    count(c: Counters): void {
      m.events.inc(c.events);
      m.exposures.inc(c.exposures);
      m.duplicateEvents.inc(c.duplicateEvents);
      m.duplicateExposures.inc(c.duplicateExposures);
      m.idleAdvances.inc(c.idleAdvances);
      m.joined.inc(c.joined);
      m.lateEvents.inc(c.lateEvents);
      m.lateExposures.inc(c.lateExposures);
      m.multiVariant.inc(c.multiVariantUnits);
      m.unknownExperiment.inc(c.unknownExperiment);
      m.notRunning.inc(c.notRunning);
      m.expired.inc(c.expired);
      m.failed.inc(c.failed);
      m.windowsEmitted.inc(c.windowsEmitted);
    },
  };
}

export type EnricherMetrics = ReturnType<typeof enricherMetrics>;
