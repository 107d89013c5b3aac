// What can happen to an idea: creation, edits, and promotion into a draft experiment (the idea
// and the new experiment change in one transaction, each with its audit entry).
import type { PoolClient } from 'pg';
import { insert, type Stored } from '../core/entity-store';
import { ERR, failIfProblems, problemList, type FieldProblem } from '../core/errors';
import { experimentBodySchema, newExperiment, type Experiment } from '../experiments/model';
import { experimentReferenceProblems } from '../experiments/service';
import type { Principal } from '../tokens/model';
import { identityExists } from '../tokens/store';
import type { Idea, IdeaBody, IdeaPatch, PromoteRequest } from './model';
import { iceScore, type Weights } from './scoring';
import { insertIdea, updateIdea } from './store';

function fail(problems: FieldProblem[]): void {
  failIfProblems('idea', problems);
}

/** Owners are identities that hold a token, as for experiments (promotion hands it over). */
async function ownerProblems(client: PoolClient, owner: string): Promise<FieldProblem[]> {
  return (await identityExists(client, owner))
    ? []
    : [
        {
          path: 'owner',
          message: `unknown identity "${owner}": an owner is a person or service that holds a token`,
        },
      ];
}

export async function createIdea(client: PoolClient, body: IdeaBody, who: Principal): Promise<Stored<Idea>> {
  const owner = body.owner ?? who.identity;
  fail(await ownerProblems(client, owner));
  const idea: Idea = {
    ...body,
    owner,
    status: 'open',
    experimentKey: null,
    createdBy: who.identity,
    promotedAt: null,
    promotedBy: null,
  };
  return insertIdea(client, idea, { actor: who.identity, action: 'created' });
}

export async function editIdea(
  client: PoolClient,
  current: Stored<Idea>,
  patch: Omit<IdeaPatch, 'version'>,
  who: Principal,
): Promise<Stored<Idea>> {
  if (current.doc.status === 'promoted') {
    throw ERR.IDEA_PROMOTED({ key: current.key, experiment: String(current.doc.experimentKey) });
  }
  if (patch.owner !== undefined) fail(await ownerProblems(client, patch.owner));
  const action =
    patch.status && patch.status !== current.doc.status
      ? patch.status === 'discarded'
        ? 'discarded'
        : 'reopened'
      : 'updated';
  return updateIdea(client, current, { ...current.doc, ...patch }, { actor: who.identity, action });
}

export async function promoteIdea(
  client: PoolClient,
  current: Stored<Idea>,
  request: PromoteRequest,
  who: Principal,
  environments: readonly string[],
  weights: Weights,
): Promise<{ idea: Stored<Idea>; experiment: Stored<Experiment> }> {
  const idea = current.doc;
  if (idea.status !== 'open') {
    throw idea.status === 'promoted'
      ? ERR.IDEA_ALREADY_PROMOTED({ key: idea.key, experiment: String(idea.experimentKey) })
      : ERR.IDEA_DISCARDED({ key: idea.key });
  }
  const links = idea.links.map((l) => `- ${l.label ? `${l.label}: ` : ''}${l.url}`);
  const body = experimentBodySchema.parse({
    key: request.experimentKey ?? idea.key,
    name: request.name ?? idea.title,
    hypothesis: idea.hypothesis,
    description: [
      `From idea \`${idea.key}\` (ICE score ${iceScore(idea, weights)}: impact ${idea.expectedImpact}, ` +
        `confidence ${idea.confidence}, ease ${idea.ease}).`,
      ...(links.length > 0 ? ['', 'Links:', ...links] : []),
    ].join('\n'),
    owner: idea.owner,
    tags: idea.tags,
    ...(request.flagKey !== undefined ? { flagKey: request.flagKey } : {}),
    environment: environments.includes('production') ? 'production' : environments[0],
  });
  const problems = await experimentReferenceProblems(client, body, environments);
  if (problems.length > 0) {
    throw ERR.PROMOTION_INVALID({ problems: problemList(problems) }, problems);
  }
  const experiment = await insert(client, 'experiment', body.key, newExperiment(body, who.identity), {
    actor: who.identity,
    action: 'created',
  });
  const promoted = await updateIdea(
    client,
    current,
    {
      ...idea,
      status: 'promoted',
      experimentKey: body.key,
      promotedAt: new Date().toISOString(),
      promotedBy: who.identity,
    },
    { actor: who.identity, action: 'promoted' },
  );
  return { idea: promoted, experiment };
}
