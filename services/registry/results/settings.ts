// The registry's settings for results and webhooks, validated at start-up like the rest of its
// environment (documented in services/registry/README.md). Kept beside the features that use
// them; buildApp reads them once.
import { z } from 'zod';
import { env, loadConfig } from '../../common/config';

export const resultsEnv = z.object({
  /** The results service, which the refresh endpoint forwards to. */
  REGISTRY_RESULTS_URL: env.url('http://127.0.0.1:7074'),
  /** How long the refresh endpoint waits for the results service (a refresh is one BigQuery job). */
  REGISTRY_RESULTS_TIMEOUT_MS: env.int(120_000, 100),
  /** Run the webhook dispatcher in this instance (several instances may; rows are claimed). */
  REGISTRY_WEBHOOKS_ENABLED: env.bool(true),
  REGISTRY_WEBHOOK_POLL_MS: env.int(500, 10),
  REGISTRY_WEBHOOK_TIMEOUT_MS: env.int(5_000, 100),
  /** Attempts before a delivery is marked failed (first try included). */
  REGISTRY_WEBHOOK_MAX_ATTEMPTS: env.int(8, 1),
  /** Backoff before attempt n+1: base x 2^(n-1), capped, with up to 10% jitter. */
  REGISTRY_WEBHOOK_BACKOFF_MS: env.int(1_000, 1),
  REGISTRY_WEBHOOK_BACKOFF_MAX_MS: env.int(600_000, 1),
  /** Deliveries claimed per poll. */
  REGISTRY_WEBHOOK_BATCH: env.int(20, 1),
});

export type ResultsSettings = z.infer<typeof resultsEnv>;

export function loadResultsSettings(source: NodeJS.ProcessEnv = process.env): ResultsSettings {
  return loadConfig(resultsEnv, source);
}
