// What can happen to an idea: creation, edits, and promotion into a draft experiment (the idea
// and the new experiment change in one transaction, each with its audit entry).
import type { PoolClient } from 'pg';
import { experimentBodySchema } from '../core/schemas';
import type { Principal } from '../tokens/auth';
import { badRequest, conflict, type FieldProblem } from '../core/errors';
import { newExperiment, type Experiment } from '../experiments/model';
import { experimentReferenceProblems } from '../experiments/service';
import { insert, type Stored } from '../core/entity-store';
import type { Idea, IdeaBody, IdeaPatch, PromoteRequest } from './model';
import { iceScore, type Weights } from './scoring';
import { insertIdea, updateIdea } from './store';

function fail(problems: FieldProblem[]): void {
  if (problems.length > 0) {
    throw badRequest(`invalid idea: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }
}

/** Owners are identities that hold a token, as for experiments (promotion hands it over). */
async function ownerProblems(client: PoolClient, owner: string): Promise<FieldProblem[]> {
  const { rowCount } = await client.query('SELECT 1 FROM api_tokens WHERE identity = $1 LIMIT 1', [owner]);
  return rowCount
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
    throw conflict(
      'idea_promoted',
      `idea "${current.key}" was promoted to experiment "${current.doc.experimentKey}"; edit the experiment instead`,
    );
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
    throw conflict(
      idea.status === 'promoted' ? 'already_promoted' : 'idea_discarded',
      idea.status === 'promoted'
        ? `idea "${idea.key}" was already promoted to experiment "${idea.experimentKey}"`
        : `idea "${idea.key}" is discarded; reopen it (PATCH status "open") before promoting it`,
    );
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
    throw badRequest(
      `cannot create the experiment: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
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
