import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { KeelError } from '../../core/errors.js';
import { churnSchema, writeChurnCsv } from '../../data/index.js';
import { churnPipeline } from '../../demo/churn-pipeline.js';
import { formatSummary } from '../../demo/summary.js';
import { runPipeline } from '../../pipeline/index.js';
import { gitCommit } from '../../track/index.js';
import { type GlobalOptions, openContext } from '../context.js';
import { progressPrinter } from '../progress.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new KeelError('KEEL_E_USAGE', `${name} expects a whole number >= ${min}, got "${v}"`);
  return n;
};

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Generate a seeded synthetic customer-churn data set, run the full churn pipeline on it\n' +
        '(ingest, validate, split, features, train logistic regression + gradient boosting + random forest,\n' +
        'evaluate, quality gate, register as churn@staging, promote to churn@production when better)\n' +
        'and print a summary. Everything is stored under .keel/ (SQLite tracking, artifacts).',
    )
    .option(
      '--rows <n>',
      'rows of synthetic data (default from keel.yaml demo.rows: 10000)',
      int('--rows', 100),
    )
    .option(
      '--seed <n>',
      'seed for the data and the models (default from keel.yaml seed: 42)',
      int('--seed', 0),
    )
    .option('--model <name>', 'registered model name', 'churn')
    .option('-q, --quiet', 'no progress lines, only the summary')
    .action(async (opts: { rows?: number; seed?: number; model: string; quiet?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const rows = opts.rows ?? ctx.config.demo.rows;
        const seed = opts.seed ?? ctx.config.seed;
        const dir = join(ctx.loaded.root, '.keel', 'demo');
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `churn-${rows}-${seed}.csv`);
        const t = performance.now();
        await writeChurnCsv(file, { rows, seed });
        if (!opts.quiet)
          process.stderr.write(
            `generated ${rows} synthetic churn rows (seed ${seed}) in ${Math.round(performance.now() - t)} ms: ${file}\n`,
          );
        const store = await ctx.store();
        const pipeline = churnPipeline(churnSchema(), { data: file, model: opts.model, seed });
        const result = await runPipeline(pipeline, {
          store,
          artifacts: ctx.artifacts(),
          config: ctx.config,
          experiment: 'demo',
          gitCommit: gitCommit(ctx.loaded.root),
          logger: ctx.logger,
          onEvent: opts.quiet ? undefined : progressPrinter(),
        });
        if (result.status === 'FAILED') throw result.error;
        const o = result.outputs as Record<string, never>;
        const ev = o.evaluate as { results: never; best: never };
        process.stdout.write(
          `${formatSummary({
            runId: result.runId,
            seconds: result.seconds,
            results: ev.results,
            best: ev.best,
            gate: o.gate,
            registered: o.register,
            promotion: o.promote,
            split: o.split,
          })}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
