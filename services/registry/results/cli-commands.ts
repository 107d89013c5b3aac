// `xp results <experiment>` prints the report; `xp refresh <experiment>` asks the results
// service (through the registry) to refresh it now and prints the decision.
import type { Command } from 'commander';

type Call = (method: string, path: string, body?: unknown) => Promise<Response>;

export function addResultsCommands(program: Command, call: Call): void {
  program
    .command('results')
    .description("print an experiment's results report")
    .argument('<experiment>', 'experiment key')
    .option('--format <format>', 'markdown | json | html', 'markdown')
    .action(async (key: string, o: { format: string }) => {
      const res = await call(
        'GET',
        `/v1/experiments/${encodeURIComponent(key)}/results?format=${encodeURIComponent(o.format)}`,
      );
      const text = await res.text();
      process.stdout.write(o.format === 'json' ? JSON.stringify(JSON.parse(text), null, 2) + '\n' : text);
    });

  program
    .command('refresh')
    .description("refresh an experiment's results now and print the decision")
    .argument('<experiment>', 'experiment key')
    .action(async (key: string) => {
      const res = await call('POST', `/v1/experiments/${encodeURIComponent(key)}/results/refresh`);
      const out = (await res.json()) as {
        phase?: number;
        rows?: number;
        snapshotId?: string;
        sentence?: string;
      };
      // Output goes to stdout (eslint allows console only in services/*/cli.ts itself).
      process.stdout.write(
        `${key} phase ${out.phase}: ${out.rows} result rows (snapshot ${out.snapshotId?.slice(0, 12)})\n` +
          (out.sentence ? `${out.sentence}\n` : ''),
      );
    });
}
