import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The results service's own series (Node's defaults come from createMetricsRegistry). */
export function resultsMetrics(registry: Registry) {
  return {
    refreshes: new Counter({
      name: 'xp_results_refreshes_total',
      help: 'Experiment refreshes by trigger (schedule, demand) and outcome (published, no_data, failed, timeout)',
      labelNames: ['trigger', 'outcome'] as const,
      registers: [registry],
    }),
    refreshSeconds: new Histogram({
      name: 'xp_results_refresh_seconds',
      help: 'Time to refresh one experiment: the BigQuery query, the analysis and the publish',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    rows: new Counter({
      name: 'xp_results_rows_published_total',
      help: 'experiment_results records acknowledged by Kafka',
      registers: [registry],
    }),
    summaries: new Counter({
      name: 'xp_results_summaries_total',
      help: 'Summaries recorded in the registry, by outcome (recorded, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    runningExperiments: new Gauge({
      name: 'xp_results_running_experiments',
      help: 'Running experiments found in the last scheduled round',
      registers: [registry],
    }),
    ownedExperiments: new Gauge({
      name: 'xp_results_owned_experiments',
      help: 'Of those, the ones this instance refreshed (its share of the group, see ownership.ts)',
      registers: [registry],
    }),
    lastRound: new Gauge({
      name: 'xp_results_last_round_timestamp_seconds',
      help: 'When the last scheduled round finished (unix seconds)',
      registers: [registry],
    }),
  };
}

export type ResultsMetrics = ReturnType<typeof resultsMetrics>;
