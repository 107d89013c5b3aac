// Config as code over HTTP: GET /v1/config/export (YAML), POST /v1/config/import (dry run or apply).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { FeatureDeps } from '../http/feature';
import { authorize, principalOf } from '../tokens/auth';
import { exportYaml, importYaml } from './service';

const tags = ['config as code'];

export const configAsCodePlugin: FastifyPluginAsync<FeatureDeps> = async (app, deps) => {
  const { pool, environments } = deps;

  app.get(
    '/v1/config/export',
    {
      onRequest: authorize(deps.tokens, 'read'),
      schema: { tags, summary: 'Every flag, segment and experiment definition as YAML (the full form)' },
    },
    async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(await exportYaml(pool)),
  );

  app.post(
    '/v1/config/import',
    {
      onRequest: authorize(deps.tokens, 'write'),
      schema: {
        tags,
        summary:
          'Import YAML (plain or full form); dryRun shows the diff and checks everything without applying',
        body: z.strictObject({ yaml: z.string(), dryRun: z.boolean().default(false) }),
      },
    },
    async (request) => {
      const { yaml, dryRun } = request.body as { yaml: string; dryRun: boolean };
      return importYaml(pool, yaml, dryRun, principalOf(request).identity, environments);
    },
  );
};
