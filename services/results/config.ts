import { z } from 'zod';
import { ConfigError, commonEnv, env, loadConfig } from '../common/config';
import { TOPICS, renamedSpec, type TopicSpec } from '../common/topics';
import { MAX_CUPED_LOOKBACK_HOURS } from './facts';
import type { AnalysisSettings } from './stats';

const fraction = (fallback: number) => z.coerce.number().gt(0).lt(1).default(fallback);

/** Every setting of the results service, read from the environment (documented in README.md). */
export const resultsEnv = z.object({
  ...commonEnv,
  RESULTS_HOST: env.host(),
  RESULTS_PORT: env.port(7074),
  RESULTS_TOPIC: z.string().min(1).default(TOPICS.results),
  BIGQUERY_PROJECT: z.string().min(1).default('xp-local'),
  BIGQUERY_DATASET: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,1024}$/, 'letters, digits and underscores')
    .default('xp'),
  BIGQUERY_LOCATION: z.string().min(1).default('US'),
  /** Unset: Google's API with application default credentials. */
  BIGQUERY_API_ENDPOINT: z.url().optional(),
  /** Where the running experiments come from: the registry API, or experiment_settings in BigQuery. */
  RESULTS_EXPERIMENTS_FROM: z.enum(['registry', 'bigquery']).default('registry'),
  RESULTS_REGISTRY_URL: env.url('http://127.0.0.1:7070'),
  /** Token of the results service's identity (editor role: it records summaries). Unset: no summaries. */
  RESULTS_REGISTRY_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Time between two scheduled refreshes of every running experiment. */
  RESULTS_REFRESH_INTERVAL_MS: env.int(30_000, 1_000),
  /** Experiments refreshed at once (each is one BigQuery job). */
  RESULTS_CONCURRENCY: env.int(2, 1),
  /** A refresh of one experiment taking longer is abandoned (and retried on the next round). */
  RESULTS_REFRESH_TIMEOUT_MS: env.int(120_000, 1_000),
  /** Experiments refreshed per round at most (protects BigQuery quotas from a registry full of running tests). */
  RESULTS_MAX_EXPERIMENTS: env.int(500, 1),
  RESULTS_HTTP_TIMEOUT_MS: env.int(10_000, 100),
  RESULTS_ENGINE: z.enum(['frequentist', 'bayesian']).default('frequentist'),
  RESULTS_ALPHA: fraction(0.05),
  /** Sequential testing (valid under the continuous peeking a schedule does); 0 turns it off. */
  RESULTS_SEQUENTIAL_TUNING: z.coerce.number().min(0).default(5000),
  /** CUPED look-back before first exposure, in hours; 0 turns CUPED off. */
  RESULTS_CUPED_LOOKBACK_HOURS: z.coerce.number().min(0).max(MAX_CUPED_LOOKBACK_HOURS).default(336),
  RESULTS_CORRECTION: z.enum(['none', 'holm-bonferroni', 'benjamini-hochberg']).default('none'),
  RESULTS_SRM_THRESHOLD: fraction(0.001),
  RESULTS_MULTIPLE_EXPOSURE_THRESHOLD: fraction(0.01),
  RESULTS_SHUTDOWN_TIMEOUT_MS: env.int(30_000, 1_000),
  /** Instances with the same group share the running experiments (ownership.ts). */
  RESULTS_GROUP_ID: z.string().min(1).default('xp-results'),
  /** How long a dead instance keeps its experiments before the group moves them (Kafka's minimum is 6 s). */
  RESULTS_SESSION_TIMEOUT_MS: env.int(30_000, 6_000),
});

export type ResultsConfig = z.infer<typeof resultsEnv>;

export function loadResultsConfig(source: NodeJS.ProcessEnv = process.env): ResultsConfig {
  const c = loadConfig(resultsEnv, source);
  if (c.RESULTS_EXPERIMENTS_FROM === 'registry' && !c.RESULTS_REGISTRY_TOKEN) {
    // The registry answers nothing without a token; fail now rather than on every round.
    throw new ConfigError([
      'RESULTS_REGISTRY_TOKEN: required when RESULTS_EXPERIMENTS_FROM=registry (not set)',
    ]);
  }
  return c;
}

/** The topic the service writes, with its declared spec under the configured name. */
export function resultsTopicSpec(c: ResultsConfig): TopicSpec {
  return renamedSpec(TOPICS.results, c.XP_TOPIC_PARTITIONS, c.RESULTS_TOPIC);
}

/** The statistics core's settings from the configuration. */
export function analysisSettings(c: ResultsConfig): AnalysisSettings {
  return {
    engine: c.RESULTS_ENGINE,
    alpha: c.RESULTS_ALPHA,
    sequentialTuning: c.RESULTS_SEQUENTIAL_TUNING > 0 ? c.RESULTS_SEQUENTIAL_TUNING : undefined,
    cuped: c.RESULTS_CUPED_LOOKBACK_HOURS > 0,
    correction: c.RESULTS_CORRECTION === 'none' ? null : c.RESULTS_CORRECTION,
    srmThreshold: c.RESULTS_SRM_THRESHOLD,
  };
}
