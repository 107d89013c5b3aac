// Refreshes experiments: read the facts (one BigQuery query), analyse them, publish the
// snapshot to Kafka, record the summary in the registry. On a schedule for every running
// experiment, and on demand for one. At most one refresh per experiment is in flight: a
// request arriving meanwhile shares it rather than running a second query.
import type { Logger } from '../common/logger';
import type { ExperimentFacts, FactsOptions } from './facts';
import { RefreshTimeoutError } from './errors';
import type { ExperimentSource } from './experiment-source';
import type { ResultsMetrics } from './metrics';
import type { RegistryClient, RunningExperiment } from './registry-client';
import { buildSnapshot, type ExperimentResultRecord, type SnapshotSettings } from './snapshot';
import type { ResultsSummary } from '../common/results-summary';

export type ReadFacts = (
  experiment: RunningExperiment,
  options: FactsOptions,
) => Promise<ExperimentFacts | null>;

export interface RefresherDeps {
  readFacts: ReadFacts;
  publish: (records: ExperimentResultRecord[]) => Promise<void>;
  source: ExperimentSource;
  /** Which experiments this instance refreshes on its schedule (absent: all of them). */
  owns?: (experimentKey: string) => boolean;
  /** Absent: summaries are not recorded (no registry token configured). */
  registry?: Pick<RegistryClient, 'recordSummary'>;
  settings: SnapshotSettings;
  cupedLookbackHours: number;
  concurrency: number;
  timeoutMs: number;
  maxExperiments: number;
  logger: Logger;
  metrics: ResultsMetrics;
  now?: () => number;
}

export interface RefreshOutcome {
  experimentKey: string;
  status: 'published' | 'no_data';
  phase?: number;
  snapshotId?: string;
  snapshotAt?: string;
  rows?: number;
  verdict?: string;
  sentence?: string;
  /** Whether the registry has the summary (false when not configured or it failed). */
  summaryRecorded?: boolean;
}

export interface RoundOutcome {
  experiments: number;
  published: number;
  noData: number;
  failed: Array<{ experimentKey: string; error: string }>;
}

export type Trigger = 'schedule' | 'demand';

export class Refresher {
  private readonly inFlight = new Map<string, Promise<RefreshOutcome>>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<RoundOutcome> | undefined;
  private stopped = false;
  /** Outcome of the last scheduled round's listing: readiness reports it. */
  lastListingOk: boolean | undefined;

  constructor(private readonly deps: RefresherDeps) {}

  /** Refreshes one experiment (sharing a refresh already in flight for it). */
  refresh(experiment: RunningExperiment, trigger: Trigger = 'demand'): Promise<RefreshOutcome> {
    const running = this.inFlight.get(experiment.key);
    if (running) return running;
    const p = this.run(experiment, trigger).finally(() => this.inFlight.delete(experiment.key));
    this.inFlight.set(experiment.key, p);
    return p;
  }

  private async run(experiment: RunningExperiment, trigger: Trigger): Promise<RefreshOutcome> {
    const { deps } = this;
    const stopTimer = deps.metrics.refreshSeconds.startTimer();
    const log = deps.logger.child({ experiment: experiment.key, trigger });
    try {
      const outcome = await withTimeout(this.compute(experiment), deps.timeoutMs, experiment.key);
      deps.metrics.refreshes.inc({ trigger, outcome: outcome.status });
      log.info(
        { phase: outcome.phase, rows: outcome.rows, verdict: outcome.verdict, status: outcome.status },
        'experiment refreshed',
      );
      return outcome;
    } catch (err) {
      const outcome = err instanceof RefreshTimeoutError ? 'timeout' : 'failed';
      deps.metrics.refreshes.inc({ trigger, outcome });
      log.error({ err }, 'refresh failed');
      throw err;
    } finally {
      stopTimer();
    }
  }

  private async compute(experiment: RunningExperiment): Promise<RefreshOutcome> {
    const { deps } = this;
    // The snapshot time is taken before the facts are read: the rows describe data as of then.
    const snapshotAt = (deps.now ?? Date.now)();
    const facts = await deps.readFacts(experiment, {
      cupedLookbackHours: deps.cupedLookbackHours,
      phaseStartedAt: experiment.phaseStartedAt,
    });
    if (!facts) return { experimentKey: experiment.key, status: 'no_data', phase: experiment.phase };
    const snapshot = buildSnapshot(facts, deps.settings, snapshotAt);
    await deps.publish(snapshot.records);
    deps.metrics.rows.inc(snapshot.records.length);
    const summaryRecorded = await this.record(snapshot.summary);
    return {
      experimentKey: experiment.key,
      status: 'published',
      phase: facts.phase,
      snapshotId: snapshot.summary.snapshotId,
      snapshotAt: snapshot.summary.snapshotAt,
      rows: snapshot.records.length,
      verdict: snapshot.decision.verdict,
      sentence: snapshot.decision.sentence,
      summaryRecorded,
    };
  }

  /** The registry's copy is a convenience for the report; the snapshot is already durable in Kafka. */
  private async record(summary: ResultsSummary): Promise<boolean> {
    if (!this.deps.registry) return false;
    try {
      await this.deps.registry.recordSummary(summary);
      this.deps.metrics.summaries.inc({ outcome: 'recorded' });
      return true;
    } catch (err) {
      this.deps.metrics.summaries.inc({ outcome: 'failed' });
      this.deps.logger.warn(
        { err, experiment: summary.experimentKey },
        'summary not recorded in the registry',
      );
      return false;
    }
  }

  /** Refreshes every running experiment, `concurrency` at a time. */
  refreshAll(trigger: Trigger = 'schedule'): Promise<RoundOutcome> {
    this.round ??= this.runRound(trigger).finally(() => (this.round = undefined));
    return this.round;
  }

  private async runRound(trigger: Trigger): Promise<RoundOutcome> {
    const { deps } = this;
    let experiments: RunningExperiment[];
    try {
      experiments = (await deps.source.running()).slice(0, deps.maxExperiments);
      this.lastListingOk = true;
    } catch (err) {
      this.lastListingOk = false;
      throw err;
    }
    deps.metrics.runningExperiments.set(experiments.length);
    const owns = deps.owns;
    if (owns) experiments = experiments.filter((e) => owns(e.key));
    deps.metrics.ownedExperiments.set(experiments.length);
    const outcome: RoundOutcome = { experiments: experiments.length, published: 0, noData: 0, failed: [] };
    const queue = [...experiments];
    const worker = async () => {
      for (let e = queue.shift(); e && !this.stopped; e = queue.shift()) {
        try {
          const r = await this.refresh(e, trigger);
          if (r.status === 'published') outcome.published++;
          else outcome.noData++;
        } catch (err) {
          outcome.failed.push({ experimentKey: e.key, error: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: deps.concurrency }, worker));
    deps.metrics.lastRound.set(Date.now() / 1000);
    return outcome;
  }

  /** Runs a round now and then every `intervalMs` after the previous one finished. */
  start(intervalMs: number): void {
    const tick = async () => {
      try {
        const r = await this.refreshAll('schedule');
        this.deps.logger.debug(r, 'scheduled round done');
      } catch (err) {
        this.deps.logger.error({ err }, 'scheduled round failed');
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), intervalMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  /** Stops scheduling and waits for refreshes in flight (their snapshots are published whole). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([this.round, ...this.inFlight.values()]);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, key: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RefreshTimeoutError(`refresh of ${key} exceeded ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
