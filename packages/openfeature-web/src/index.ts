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
  OpenFeatureBinding,
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
  private readonly binding: OpenFeatureBinding;
  private readonly unsubscribe: () => void;

  constructor(client: XpBrowserClient | XpBrowserOptions, options: XpWebProviderOptions = {}) {
    // The provider logs exposures in its hook, so the client must not log them on evaluate.
    this.client =
      client instanceof XpBrowserClient ? client : new XpBrowserClient({ ...client, logExposures: false });
    this.binding = new OpenFeatureBinding(this.client, (context) =>
      this.client.withAnonymousId(toXpContext(context, options.targetingKeyAttribute)),
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

  /** Evaluation is local: a new context needs no fetch. */
  onContextChange(): void {}

  async onClose(): Promise<void> {
    this.unsubscribe();
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

  private resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: OpenFeatureType) {
    return this.binding.resolve(flagKey, defaultValue, context, type) as ResolutionDetails<T>;
  }
}
