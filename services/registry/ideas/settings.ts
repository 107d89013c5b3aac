// The ideas feature's settings, validated at start-up like the rest of the registry's environment.
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { weightsSetting } from './scoring';

export const ideasEnv = z.object({
  /** ICE weights, "impact:1,confidence:1,ease:1" (see scoring.ts and docs/registry.md). */
  REGISTRY_IDEA_WEIGHTS: weightsSetting,
});
export type IdeasSettings = z.infer<typeof ideasEnv>;

export function loadIdeasSettings(source: NodeJS.ProcessEnv = process.env): IdeasSettings {
  return loadConfig(ideasEnv, source);
}
