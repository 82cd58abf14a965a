import type { Command } from 'commander';
import { formatRunDetail, formatRunsList } from '../../track/index.js';
import { type GlobalOptions, openContext } from '../context.js';

export function registerRunsCommands(program: Command): void {
  const runs = program
    .command('runs')
    .description('List and inspect tracked runs (parameters, metrics, tags, artifacts, data).');
  runs
    .command('list')
    .description('List recent runs, newest first.')
    .option('-e, --experiment <name>', 'only runs of this experiment')
    .option('-n, --limit <n>', 'how many runs to show', (v) => Number.parseInt(v, 10), 20)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { experiment?: string; limit: number; json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        const list = await store.listRuns({ experiment: opts.experiment, limit: opts.limit });
        process.stdout.write(opts.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatRunsList(list)}\n`);
      } finally {
        await ctx.close();
      }
    });
  runs
    .command('show')
    .description(
      'Show one run: status, timings, git commit, params, metrics, tags, artifacts and dataset inputs.',
    )
    .argument('<id>', 'run id (an unambiguous prefix of 6 or more characters is enough)')
    .option('--json', 'print JSON instead of tables')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        const run = await store.getRun(id);
        process.stdout.write(opts.json ? `${JSON.stringify(run, null, 2)}\n` : `${formatRunDetail(run)}\n`);
      } finally {
        await ctx.close();
      }
    });
}
