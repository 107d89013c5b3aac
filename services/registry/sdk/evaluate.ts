// Server-side evaluation (POST /v1/evaluate): flags evaluated for one context against the
// cached payload, and an exposure logged for every experiment split a unit lands in.

import { evaluate, type EvaluationContext, type Flag } from '@xp-platform/evaluation';
import { ERR } from '../core/errors';
import type { ExposureInput, ExposureLogger } from './exposures';
import type { PayloadCache } from './payload';

export interface EvaluateRequest {
  environment: string;
  context: EvaluationContext;
  flags?: string[];
}

export async function evaluateForContext(
  deps: { payloads: PayloadCache; exposures: ExposureLogger; environments: readonly string[] },
  body: EvaluateRequest,
) {
  const { environments } = deps;
  if (!environments.includes(body.environment)) {
    throw ERR.UNKNOWN_ENVIRONMENT({ environments: environments.join(', ') }, [
      { path: 'environment', message: `must be one of: ${environments.join(', ')}` },
    ]);
  }
  const { payload } = await deps.payloads.get(body.environment);
  const options = { environment: body.environment, segments: payload.segments, flags: payload.flags };
  const keys = body.flags ?? Object.keys(payload.flags);
  const results: Record<string, unknown> = {};
  const exposures: ExposureInput[] = [];
  for (const key of keys) {
    const flag = payload.flags[key];
    if (!flag) {
      results[key] = { value: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' };
      continue;
    }
    const r = evaluate(flag, body.context, options);
    results[key] = r;
    if (r.experiment) {
      const unitId = unitFor(flag, body.environment, r.ruleId, body.context);
      if (unitId !== undefined) {
        exposures.push({
          unitId,
          experimentKey: r.experiment.key,
          variationId: r.experiment.variationId,
          phase: r.experiment.phase,
          attributes: body.context,
        });
      }
    }
  }
  const logged = exposures.length > 0 ? await deps.exposures.log(exposures) : 0;
  return { environment: body.environment, results, exposuresLogged: logged };
}

/** The unit the split hashed (its hashAttribute's value), for the exposure's key. */
function unitFor(flag: Flag, environment: string, ruleId: string | undefined, ctx: EvaluationContext) {
  const rule = flag.environments[environment]?.rules.find((r) => r.id === ruleId);
  const attr = rule?.split?.hashAttribute;
  const v = attr === undefined ? undefined : ctx[attr];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}
