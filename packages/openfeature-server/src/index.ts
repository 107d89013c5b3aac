// An OpenFeature provider for @openfeature/server-sdk, backed by the xp Node SDK: typed
// resolution with reasons, variants, error codes and flag metadata; ConfigurationChanged
// events when the registry's payload changes; exposures logged by a provider hook after
// each evaluation that assigned an experiment variant.
import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import {
  XpNodeClient,
  experimentFromMetadata,
  toResolution,
  toXpContext,
  type OpenFeatureType,
  type XpNodeOptions,
} from '@xp-platform/node';

export interface XpProviderOptions {
  /** The context attribute that OpenFeature's targetingKey fills (default userId). */
  targetingKeyAttribute?: string;
  /** Log `Experiment Viewed` through the provider hook (default true). */
  trackExposures?: boolean;
}

export class XpProvider implements Provider {
  readonly metadata = { name: 'xp' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks: Hook[];
  readonly client: XpNodeClient;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    client: XpNodeClient | XpNodeOptions,
    private readonly options: XpProviderOptions = {},
  ) {
    // The provider logs exposures in its hook, so the client must not log them on evaluate.
    this.client =
      client instanceof XpNodeClient ? client : new XpNodeClient({ ...client, logExposures: false });
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

  async onClose(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'boolean'));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'string'));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'number'));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'object'));
  }

  private context(context: EvaluationContext) {
    return toXpContext(context, this.options.targetingKeyAttribute);
  }

  private resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: OpenFeatureType) {
    const result = this.client.evaluate(flagKey, this.context(context), { logExposure: false });
    const ready = this.client.getPayload() !== undefined;
    return toResolution(flagKey, result, defaultValue, type, ready) as ResolutionDetails<T>;
  }
}
