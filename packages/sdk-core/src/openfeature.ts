// What both OpenFeature providers (server and web) share, without depending on either SDK:
// context mapping, and an xp result turned into OpenFeature resolution details (typed value,
// reason, variant, error code, flag metadata). The strings are OpenFeature's standard ones.
import type { ContextValue, EvaluationContext, EvaluationResult } from '@xp-platform/evaluation';
import type { XpClient } from './client';

export type OpenFeatureType = 'boolean' | 'string' | 'number' | 'object';

export interface Resolution<T> {
  value: T;
  variant?: string;
  reason: string;
  errorCode?: string;
  errorMessage?: string;
  flagMetadata: Record<string, string | number | boolean>;
}

/**
 * OpenFeature's context to xp's flat attributes: `targetingKey` becomes `targetingKeyAttribute`
 * (default userId) unless that is set too; values a flat context cannot hold (objects, dates,
 * lists with non-strings) are left out.
 */
export function toXpContext(
  context: Record<string, unknown>,
  targetingKeyAttribute = 'userId',
): EvaluationContext {
  const out: EvaluationContext = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === 'targetingKey') continue;
    const v = flatValue(value);
    if (v !== undefined) out[key] = v;
  }
  const tk = context.targetingKey;
  if (typeof tk === 'string' && tk && out[targetingKeyAttribute] === undefined)
    out[targetingKeyAttribute] = tk;
  return out;
}

function flatValue(value: unknown): ContextValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return value as string[];
  return undefined;
}

const ERROR_CODES: Record<string, string> = {
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  MISSING_ENVIRONMENT: 'FLAG_NOT_FOUND',
  PREREQUISITE_CYCLE: 'GENERAL',
  GENERAL: 'PARSE_ERROR',
};

/** Turns an xp result into resolution details; the caller's default is served on any error. */
export function toResolution<T>(
  flagKey: string,
  result: EvaluationResult,
  defaultValue: T,
  type: OpenFeatureType,
  ready: boolean,
): Resolution<T> {
  const flagMetadata: Record<string, string | number | boolean> = {};
  if (result.ruleId !== undefined) flagMetadata.ruleId = result.ruleId;
  if (result.experiment) {
    flagMetadata.experimentKey = result.experiment.key;
    flagMetadata.variationId = result.experiment.variationId;
    flagMetadata.phase = result.experiment.phase;
  }
  if (result.reason === 'ERROR') {
    const notReady = !ready && result.errorCode === 'FLAG_NOT_FOUND';
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: notReady ? 'PROVIDER_NOT_READY' : (ERROR_CODES[result.errorCode ?? 'GENERAL'] ?? 'GENERAL'),
      errorMessage: notReady
        ? 'no payload from the registry yet'
        : `${flagKey}: ${result.errorCode ?? 'GENERAL'}`,
      flagMetadata,
    };
  }
  const value = result.value;
  const ok =
    type === 'object'
      ? typeof value === 'object' && value !== null
      : typeof value === type && (type !== 'number' || Number.isFinite(value));
  if (!ok) {
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
      errorMessage: `${flagKey} serves ${value === null ? 'null' : typeof value}, not ${type}`,
      flagMetadata,
    };
  }
  return {
    value: value as T,
    variant: result.variant ?? result.ruleId,
    reason: result.reason,
    flagMetadata,
  };
}

/** The experiment assignment in a resolution's metadata, for exposure hooks. */
export function experimentFromMetadata(
  metadata: Readonly<Record<string, string | number | boolean>>,
): EvaluationResult | undefined {
  const { experimentKey, variationId, phase } = metadata;
  if (typeof experimentKey !== 'string' || typeof variationId !== 'string') return undefined;
  return {
    value: null,
    reason: 'SPLIT',
    experiment: { key: experimentKey, variationId, phase: typeof phase === 'number' ? phase : 0 },
  };
}

/**
 * An xp client seen from OpenFeature: what the server and the web provider do alike. Each
 * provider keeps only its SDK's types, where it runs, and sync or async resolution.
 */
export class OpenFeatureBinding {
  constructor(
    readonly client: XpClient,
    /** OpenFeature's context as the xp attributes this provider evaluates with. */
    private readonly contextOf: (context: Record<string, unknown>) => EvaluationContext,
  ) {}

  /** Evaluates without logging: the provider's hook logs the exposure after the evaluation. */
  resolve<T>(
    flagKey: string,
    defaultValue: T,
    context: Record<string, unknown>,
    type: OpenFeatureType,
  ): Resolution<T> {
    const result = this.client.evaluate(flagKey, this.contextOf(context), { logExposure: false });
    return toResolution(flagKey, result, defaultValue, type, this.client.getPayload() !== undefined);
  }

  /** The hook's `after`: logs an exposure when the resolution assigned an experiment variant. */
  logExposure(
    flagMetadata: Readonly<Record<string, string | number | boolean>>,
    context: Record<string, unknown>,
  ): void {
    const assigned = experimentFromMetadata(flagMetadata);
    if (assigned) this.client.logExposure(assigned, this.contextOf(context));
  }

  /** Calls `listener` with the changed flag keys on every payload change; returns the unsubscribe. */
  onChange(listener: (flagsChanged: string[]) => void): () => void {
    return this.client.on('change', (detail) =>
      listener((detail as { flagsChanged: string[] }).flagsChanged),
    );
  }
}
