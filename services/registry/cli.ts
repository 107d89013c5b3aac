#!/usr/bin/env node
// `xp`: the registry from the command line, over the HTTP API.
//   XP_REGISTRY_URL (default http://127.0.0.1:7070) and XP_TOKEN (an API token).
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import type { DiffEntry } from './core/json-diff';
import type { ImportPlan } from './config-as-code/yaml';
import { addResultsCommands } from './results/cli-commands';

class CliError extends Error {}

interface Options {
  url: string;
  token?: string;
}

async function call(opts: Options, method: string, path: string, body?: unknown): Promise<Response> {
  if (!opts.token) throw new CliError('no API token: set XP_TOKEN (or pass --token)');
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.url), {
      method,
      headers: {
        authorization: `Bearer ${opts.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach the registry at ${opts.url}: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      const parsed = JSON.parse(text) as { message?: string; details?: unknown };
      message = parsed.message ?? text;
      const unmet = (parsed.details as { unmet?: string[] } | undefined)?.unmet;
      if (unmet) message += unmet.map((u) => `\n  - ${u}`).join('');
    } catch {
      // not JSON: show as is
    }
    throw new CliError(`${method} ${path}: ${res.status} ${message}`);
  }
  return res;
}

const show = (v: unknown) => (v === undefined ? '∅' : JSON.stringify(v));

export function formatPlan(plan: ImportPlan & { dryRun: boolean }): string {
  const lines: string[] = [];
  for (const c of plan.changes) {
    lines.push(`${c.op === 'create' ? '+' : '~'} ${c.entityType} ${c.key}`);
    if (c.op === 'update') {
      for (const d of c.diff as DiffEntry[])
        lines.push(`    ${d.path}: ${show(d.before)} → ${show(d.after)}`);
    }
  }
  for (const c of plan.conflicts) lines.push(`! ${c.entityType} ${c.key}: ${c.problems.join('; ')}`);
  const verb = plan.dryRun ? 'would change' : 'changed';
  lines.push(
    `${verb} ${plan.changes.length}, unchanged ${plan.unchanged}${plan.conflicts.length ? `, refused ${plan.conflicts.length}` : ''}`,
  );
  return lines.join('\n');
}

export function buildCli(): Command {
  const program = new Command('xp')
    .description('Flags and experiments in the xp registry')
    .option('--url <url>', 'registry URL', process.env.XP_REGISTRY_URL ?? 'http://127.0.0.1:7070')
    // No commander default: it would print the secret in --help.
    .option('--token <token>', 'API token (default: $XP_TOKEN)');
  const opts = (): Options => {
    const o = program.opts<Options>();
    return { url: o.url, token: o.token ?? process.env.XP_TOKEN };
  };

  program
    .command('list')
    .description('list flags, experiments or segments')
    .argument('[kind]', 'flags | experiments | segments', 'flags')
    .option('--json', 'print the raw JSON')
    .action(async (kind: string, o: { json?: boolean }) => {
      if (!['flags', 'experiments', 'segments'].includes(kind)) throw new CliError(`unknown kind ${kind}`);
      const body = (await (await call(opts(), 'GET', `/v1/${kind}`)).json()) as Record<
        string,
        Record<string, unknown>[]
      >;
      const items = body[kind] ?? [];
      if (o.json) return console.log(JSON.stringify(items, null, 2));
      for (const item of items) {
        const detail =
          kind === 'flags'
            ? `${item.valueType} ${Object.entries(item.environments as Record<string, { enabled: boolean }>)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([env, e]) => `${env}:${e.enabled ? 'on' : 'off'}`)
                .join(' ')}`
            : kind === 'experiments'
              ? `${item.status} ${item.flagKey ? `flag=${item.flagKey}` : ''}`
              : `${(item.conditions as unknown[]).length} conditions`;
        console.log(`${item.key}\tv${item.version}\t${detail}`);
      }
    });

  program
    .command('export')
    .description('export every definition as YAML')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (o: { output?: string }) => {
      const text = await (await call(opts(), 'GET', '/v1/config/export')).text();
      if (o.output) writeFileSync(o.output, text);
      else process.stdout.write(text);
    });

  program
    .command('import')
    .description('import a YAML file (plain or full form)')
    .argument('<file>', 'YAML file, or - for stdin')
    .option('--dry-run', 'show the diff without applying it')
    .action(async (file: string, o: { dryRun?: boolean }) => {
      const yaml = readFileSync(file === '-' ? 0 : file, 'utf8');
      const plan = (await (
        await call(opts(), 'POST', '/v1/config/import', { yaml, dryRun: Boolean(o.dryRun) })
      ).json()) as ImportPlan & { dryRun: boolean };
      console.log(formatPlan(plan));
      if (plan.conflicts.length > 0) process.exitCode = 1;
    });

  program
    .command('transition')
    .description('move an experiment through its lifecycle')
    .argument('<experiment>', 'experiment key')
    .argument('<status>', 'in_review | approved | running | stopped | concluded | archived | draft')
    .option('--decision <decision>', 'ship | rollback | iterate (to conclude)')
    .option('--summary <text>', 'summary of the results (to conclude)')
    .option('--comment <text>', 'comment recorded with the transition')
    .action(async (key: string, to: string, o: { decision?: string; summary?: string; comment?: string }) => {
      const res = await call(opts(), 'POST', `/v1/experiments/${encodeURIComponent(key)}/transitions`, {
        to,
        ...o,
      });
      const exp = (await res.json()) as { key: string; status: string; version: number };
      console.log(`${exp.key} is now ${exp.status} (version ${exp.version})`);
    });
  addResultsCommands(program, (method, path, body) => call(opts(), method, path, body));
  return program;
}

if (require.main === module) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(err instanceof CliError ? `xp: ${err.message}` : err);
      process.exitCode = 1;
    });
}
