// Ideas: what a backlog entry holds, as written by clients (zod, also the OpenAPI schemas) and
// as stored (plus the state the server manages: status, the experiment it became, who made it).
import { z } from 'zod';
import type { Stored } from '../core/entity-store';
import { entityKey, identityName } from '../core/schemas';
import { iceScore, type Weights } from './scoring';

const rating = z.number().int().min(1).max(10);

export const linkSchema = z.strictObject({
  // http(s) only: the console renders links, and javascript: URLs must never reach it.
  url: z.url({ protocol: /^https?$/, error: 'an http or https URL' }).max(2000),
  label: z.string().max(200).optional(),
});

export const ideaBodySchema = z.strictObject({
  key: entityKey,
  title: z.string().min(1).max(200),
  hypothesis: z.string().max(10_000).default(''),
  /** ICE ratings, 1 (low) to 10 (high). */
  expectedImpact: rating,
  confidence: rating,
  ease: rating,
  /** An identity that holds a token; the caller's identity when absent. */
  owner: identityName.optional(),
  links: z.array(linkSchema).max(20).default([]),
  tags: z.array(z.string().min(1).max(100)).max(50).default([]),
});
export type IdeaBody = z.infer<typeof ideaBodySchema>;

export const IDEA_STATUSES = ['open', 'promoted', 'discarded'] as const;

/** A partial update; `status` may move between open and discarded (promotion has its own route). */
export const ideaPatchSchema = z.strictObject({
  title: z.string().min(1).max(200).optional(),
  hypothesis: z.string().max(10_000).optional(),
  expectedImpact: rating.optional(),
  confidence: rating.optional(),
  ease: rating.optional(),
  owner: identityName.optional(),
  links: z.array(linkSchema).max(20).optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  status: z.enum(['open', 'discarded']).optional(),
  version: z.number().int().min(1).optional(),
});
export type IdeaPatch = z.infer<typeof ideaPatchSchema>;

export const promoteSchema = z.strictObject({
  /** The new experiment's key; the idea's key when absent. */
  experimentKey: entityKey.optional(),
  /** The experiment's name; the idea's title when absent. */
  name: z.string().min(1).max(200).optional(),
  flagKey: entityKey.nullable().optional(),
  version: z.number().int().min(1).optional(),
});
export type PromoteRequest = z.infer<typeof promoteSchema>;

export const SORTS = [
  'score',
  'expectedImpact',
  'confidence',
  'ease',
  'createdAt',
  'updatedAt',
  'key',
] as const;
export const listQuerySchema = z.strictObject({
  status: z.enum(IDEA_STATUSES).optional(),
  sort: z.enum(SORTS).default('score'),
  order: z.enum(['asc', 'desc']).optional(),
});

export interface Idea extends Omit<IdeaBody, 'owner'> {
  owner: string;
  status: (typeof IDEA_STATUSES)[number];
  /** The experiment created by promotion. */
  experimentKey: string | null;
  createdBy: string;
  promotedAt: string | null;
  promotedBy: string | null;
}

export type PresentedIdea = Idea & { score: number; version: number; createdAt: string; updatedAt: string };

export function presentIdea(s: Stored<Idea>, weights: Weights): PresentedIdea {
  return {
    ...s.doc,
    score: iceScore(s.doc, weights),
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** Sorted copy: by the field, descending by default for score and ratings, then by key. */
export function sortIdeas(
  ideas: PresentedIdea[],
  sort: (typeof SORTS)[number],
  order?: 'asc' | 'desc',
): PresentedIdea[] {
  const dir = (order ?? (sort === 'key' ? 'asc' : 'desc')) === 'asc' ? 1 : -1;
  return [...ideas].sort((a, b) => {
    const x = a[sort];
    const y = b[sort];
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}
