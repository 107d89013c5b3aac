// The join rule, pure: does an event of a unit count for an experiment the unit was exposed to?
// (docs/enricher.md, "Join".)

import { firstExposure, isMultiVariant, type Assignment } from './assignments';
import { phaseAt, type ExperimentView } from './experiments';

export interface Attribution {
  variant: string;
  phase: number;
  exposedAt: number;
  multipleVariants: boolean;
}

/**
 * An event at `eventTs` is attributed to the assignment when
 * - the experiment was running at the event's time, in the assignment's phase (a new phase
 *   re-randomises, so exposures of an earlier phase do not count),
 * - the unit's first exposure is at or before the event (events before exposure are not
 *   attributed),
 * - and the event is within the attribution window after that first exposure.
 * The variant is the first exposure's; a unit seen in more than one variant is marked.
 */
export function attribute(a: Assignment, exp: ExperimentView, eventTs: number): Attribution | null {
  const phase = phaseAt(exp, eventTs);
  if (!phase || phase.number !== a.phase) return null;
  const first = firstExposure(a);
  if (first.at > eventTs) return null;
  if (eventTs >= first.at + exp.attributionWindowMs) return null;
  return { variant: first.variant, phase: a.phase, exposedAt: first.at, multipleVariants: isMultiVariant(a) };
}

/** The numeric value of an event: properties.value, else properties.revenue; null when neither is a number. */
export function eventValue(properties: string): number | null {
  // Cheap pre-check: most events carry neither field, and JSON.parse is the costly part.
  if (!properties.includes('"value"') && !properties.includes('"revenue"')) return null;
  try {
    const p = JSON.parse(properties) as Record<string, unknown>;
    if (typeof p.value === 'number' && Number.isFinite(p.value)) return p.value;
    if (typeof p.revenue === 'number' && Number.isFinite(p.revenue)) return p.revenue;
  } catch {
    // properties is validated JSON at the collector; a direct producer's bad text has no value.
  }
  return null;
}
