// The registry over HTTP: which experiments run (and their current phase), and where the
// results summary of each refresh is recorded. The token is sent, never logged.
import type { ResultsSummary } from '../common/results-summary';
import { RegistryError } from './errors';

/** A running experiment as the refresher needs it. */
export interface RunningExperiment {
  key: string;
  /** Current phase, when the source knows it (else the query takes experiment_settings'). */
  phase?: number;
  /** Start of that phase: lets the CUPED scan of the events table prune partitions. */
  phaseStartedAt?: Date;
}

interface RegistryExperiment {
  key: string;
  status: string;
  phases?: Array<{ number: number; startedAt: string }>;
}

/** Responses larger than this are refused (a registry lists at most a few thousand experiments). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export class RegistryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RegistryError(`registry unreachable at ${this.baseUrl}: ${(err as Error).message}`, null);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES)
      throw new RegistryError(`${method} ${path}: response too large`, res.status);
    if (!res.ok) {
      throw new RegistryError(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`, res.status);
    }
    return text ? JSON.parse(text) : null;
  }

  async runningExperiments(): Promise<RunningExperiment[]> {
    const body = (await this.call('GET', '/v1/experiments?status=running')) as {
      experiments: RegistryExperiment[];
    };
    return body.experiments.map(toRunning);
  }

  async experiment(key: string): Promise<RunningExperiment & { status: string }> {
    const e = (await this.call('GET', `/v1/experiments/${encodeURIComponent(key)}`)) as RegistryExperiment;
    return { ...toRunning(e), status: e.status };
  }

  async recordSummary(summary: ResultsSummary): Promise<void> {
    await this.call('PUT', `/v1/experiments/${encodeURIComponent(summary.experimentKey)}/results`, summary);
  }
}

function toRunning(e: RegistryExperiment): RunningExperiment {
  const phase = e.phases?.[e.phases.length - 1];
  return {
    key: e.key,
    ...(phase ? { phase: phase.number, phaseStartedAt: new Date(phase.startedAt) } : {}),
  };
}
