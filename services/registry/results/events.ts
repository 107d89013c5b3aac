// Which notifications a new results summary causes, compared with the previous one: each
// fires when its condition starts to hold, not on every refresh while it holds. Pure.
import type { ResultsSummary } from '../../common/results-summary';

export type ResultsEventName = 'results.srm_warning' | 'results.significant' | 'results.guardrail_failed';

export interface ResultsEvent {
  event: ResultsEventName;
  payload: Record<string, unknown>;
}

const comparisons = (s: ResultsSummary | null) =>
  (s?.metrics ?? []).flatMap((m) =>
    m.comparisons.map((c) => ({ m, c, id: `${m.id}\u0000${c.variationId}` })),
  );

/**
 * Events of `next` that `previous` (the last summary of the same phase, or null) did not have.
 * A new phase starts from scratch. Significance is only announced for sequential tests:
 * a fixed-horizon p-value crossing alpha on some refresh is what peeking makes meaningless.
 */
export function resultsEvents(previous: ResultsSummary | null, next: ResultsSummary): ResultsEvent[] {
  const prev = previous && previous.phase === next.phase ? previous : null;
  const base = {
    experimentKey: next.experimentKey,
    phase: next.phase,
    snapshotId: next.snapshotId,
    snapshotAt: next.snapshotAt,
    decision: next.decision.sentence,
  };
  const events: ResultsEvent[] = [];
  if (next.health.srm.warning && !prev?.health.srm.warning) {
    events.push({
      event: 'results.srm_warning',
      payload: { ...base, srmPValue: next.health.srm.pValue, variants: next.variants },
    });
  }
  const before = new Map(comparisons(prev).map((x) => [x.id, x.c]));
  for (const { m, c, id } of comparisons(next)) {
    const was = before.get(id);
    if (m.role !== 'guardrail' && next.settings.sequential && c.significant && !was?.significant) {
      events.push({
        event: 'results.significant',
        payload: {
          ...base,
          metric: m.id,
          role: m.role,
          variationId: c.variationId,
          lift: c.lift,
          liftCiLower: c.liftCiLower,
          liftCiUpper: c.liftCiUpper,
          pValue: c.pValueAdjusted ?? c.pValue,
          chanceToWin: c.chanceToWin,
        },
      });
    }
    if (c.guardrailFailed && !was?.guardrailFailed) {
      events.push({
        event: 'results.guardrail_failed',
        payload: {
          ...base,
          metric: m.id,
          variationId: c.variationId,
          lift: c.lift,
          liftCiLower: c.liftCiLower,
          liftCiUpper: c.liftCiUpper,
          pValue: c.pValueAdjusted ?? c.pValue,
        },
      });
    }
  }
  return events;
}
