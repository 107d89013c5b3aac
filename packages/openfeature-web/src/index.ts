// An OpenFeature provider for @openfeature/web-sdk (static context), backed by the xp browser
// SDK: synchronous typed resolution with reasons, variants, error codes and flag metadata;
// ConfigurationChanged events when the payload changes; exposures logged by a provider hook.
import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import {
  XpBrowserClient,
  experimentFromMetadata,
  toResolution,
  toXpContext,
  type OpenFeatureType,
  type XpBrowserOptions,
} from '@xp-platform/browser';

export interface XpWebProviderOptions {
  /** The context attribute that OpenFeature's targetingKey fills (default userId). */
  targetingKeyAttribute?: string;
  /** Log `Experiment Viewed` through the provider hook (default true). */
  trackExposures?: boolean;
}

export class XpWebProvider implements Provider {
  readonly metadata = { name: 'xp' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks: Hook[];
  readonly client: XpBrowserClient;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    client: XpBrowserClient | XpBrowserOptions,
    private readonly options: XpWebProviderOptions = {},
  ) {
    this.client =
      client instanceof XpBrowserClient ? client : new XpBrowserClient({ ...client, logExposures: false });
    const exposureHook: Hook = {
      after: (hookContext, details) => {
        const assigned = experimentFromMetadata(details.flagMetadata);
        if (assigned) this.client.logExposure(assigned, this.context(hookContext.context));
      },
    };
    this.hooks = options.trackExposures === false ? [] : [exposureHook];
    this.unsubscribe.push(
      this.client.on('change', (detail) => {
        const { flagsChanged } = detail as { flagsChanged: string[] };
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
      }),
    );
  }

  async initialize(): Promise<void> {
    await this.client.ready();
  }

  /** Evaluation is local: a new context needs no fetch. */
  onContextChange(): void {}

  async onClose(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, 'boolean');
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, 'string');
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, 'number');
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return this.resolve(flagKey, defaultValue, context, 'object');
  }

  private context(context: EvaluationContext) {
    return this.client.withAnonymousId(toXpContext(context, this.options.targetingKeyAttribute));
  }

  private resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: OpenFeatureType) {
    const result = this.client.evaluate(flagKey, this.context(context), { logExposure: false });
    const ready = this.client.getPayload() !== undefined;
    return toResolution(flagKey, result, defaultValue, type, ready) as ResolutionDetails<T>;
  }
}
