import type { Logger } from './logger';

type Step = { name: string; run: () => Promise<void> | void };

/**
 * Graceful shutdown in declared order: register steps as the service starts (stop intake,
 * drain, commit, close), and on SIGTERM/SIGINT they run one after another, then the
 * process exits. A step that fails is logged and the next one still runs; a shutdown that
 * takes longer than `timeoutMs` exits non-zero so an orchestrator does not wait forever.
 */
export class Lifecycle {
  private readonly steps: Step[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Registers a shutdown step; steps run in registration order. */
  onShutdown(name: string, run: Step['run']): this {
    this.steps.push({ name, run });
    return this;
  }

  /** Installs the signal handlers. */
  handleSignals(exit: (code: number) => void = process.exit): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        this.logger.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out');
          exit(1);
        }, this.timeoutMs);
        timer.unref();
        void this.shutdown().then(() => exit(0));
      });
    }
  }

  /** Runs every step once; later calls return the same promise. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      for (const step of this.steps) {
        try {
          await step.run();
          this.logger.debug({ step: step.name }, 'shutdown step done');
        } catch (err) {
          this.logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      this.logger.info('stopped');
    })();
    return this.stopping;
  }
}
