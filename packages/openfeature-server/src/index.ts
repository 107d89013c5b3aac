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
  OpenFeatureBinding,
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
  private readonly binding: OpenFeatureBinding;
  private readonly unsubscribe: () => void;

  constructor(client: XpNodeClient | XpNodeOptions, options: XpProviderOptions = {}) {
    // The provider logs exposures in its hook, so the client must not log them on evaluate.
    this.client =
      client instanceof XpNodeClient ? client : new XpNodeClient({ ...client, logExposures: false });
    this.binding = new OpenFeatureBinding(this.client, (context) =>
      toXpContext(context, options.targetingKeyAttribute),
    );
    this.hooks =
      options.trackExposures === false
        ? []
        : [{ after: (hook, details) => this.binding.logExposure(details.flagMetadata, hook.context) }];
    this.unsubscribe = this.binding.onChange((flagsChanged) =>
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
    );
  }

  async initialize(): Promise<void> {
    await this.client.ready();
  }

  async onClose(): Promise<void> {
    this.unsubscribe();
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

  private resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: OpenFeatureType) {
    return this.binding.resolve(flagKey, defaultValue, context, type) as ResolutionDetails<T>;
  }
}
