import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { resolvePath } from '../../config/index.js';
import { KeelError } from '../../core/index.js';
// renderTable is not in core's public index; the other commands import core files directly too.
import { renderTable } from '../../core/table.js';
import { type SearchMethod, type TrainTableResult, trainTable } from '../../select/index.js';
import { gitCommit } from '../../track/index.js';
import { type GlobalOptions, openContext } from '../context.js';
import { formatSeconds } from '../progress.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new KeelError('KEEL_E_USAGE', `${name} expects a whole number >= ${min}, got "${v}"`);
  return n;
};

/** `90`, `90s`, `1.5m`, `2min`, `500ms`, `1h` → milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?$/i.exec(v.trim());
  if (!m || Number(m[1]) <= 0)
    throw new KeelError(
      'KEEL_E_USAGE',
      `--time-budget expects a duration such as 60s, 2m or 500ms, got "${v}"`,
    );
  const unit = (m[2] ?? 's').toLowerCase();
  const scale = unit === 'ms' ? 1 : unit === 's' || unit === 'sec' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  return Number(m[1]) * scale;
}

const collect = (v: string, prev: string[]) => [...prev, v];

interface TrainOptions {
  target: string;
  drop: string[];
  positive?: string;
  timeBudget: number;
  trials: number;
  folds: number;
  seed?: number;
  search: SearchMethod;
  name?: string;
  experiment: string;
  workers: number;
  pruneMargin?: number;
  gate: boolean;
  slice: string[];
  report?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      [
        'Train a binary classifier on a CSV nobody has written a pipeline for:',
        '- infer the schema: text columns become categories, unique text ids are',
        '  left out, blank, ?, NA, N/A, NaN and null cells are missing (numbers are',
        '  imputed with the median plus a missing indicator);',
        '- pick the positive class (yes/true/1 when present, else the minority);',
        '- search logistic regression, random forest, extra trees and gradient',
        '  boosting with stratified K-fold cross-validation (mean and std of ROC-AUC',
        '  per trial) within --trials and --time-budget, stopping hopeless trials',
        '  after two folds (--prune-margin);',
        '- print a leaderboard; record a parent run and a child run per trial;',
        '- refit the winner on all rows and register it as a new model version.',
        'Notes about the data and progress go to stderr, results to stdout.',
        'Example: keel train telco.csv --target Churn --time-budget 60s --json',
      ].join('\n'),
    )
    .argument('<file>', 'the CSV file (header row first)')
    .requiredOption('-t, --target <column>', 'the column to predict; it must have exactly two classes')
    .option('--drop <column>', 'leave this column out of the inputs (repeatable)', collect, [])
    .option(
      '--positive <value>',
      'the class whose probability the model gives (default: yes/true/1 when present, else the minority class)',
    )
    .addOption(
      new Option(
        '--time-budget <duration>',
        'start no new trial (or fold) after this long: 60s, 2m, 500ms, 1h',
      )
        .argParser(parseDuration)
        .default(60_000, '60s'),
    )
    .option('--trials <n>', 'at most this many trials across all model families', int('--trials', 1), 30)
    .option('--folds <k>', 'cross-validation folds, stratified by the target', int('--folds', 2), 5)
    .option(
      '--seed <n>',
      'seed for the folds and the models (default from keel.yaml seed: 42)',
      int('--seed', 0),
    )
    .option(
      '--search <method>',
      "random (each family's defaults first, then sampled), grid, or halving (successive halving over folds)",
      (v: string) => {
        if (v !== 'random' && v !== 'grid' && v !== 'halving')
          throw new KeelError('KEEL_E_USAGE', `--search expects random, grid or halving, got "${v}"`);
        return v;
      },
      'random',
    )
    .option(
      '--workers <n>',
      'cross-validate this many trials at once on worker threads (each starts in about a second; worth it for long searches)',
      int('--workers', 1),
      1,
    )
    .option(
      '--slice <column>',
      'break the evaluation report down by this category column (repeatable)',
      collect,
      [],
    )
    .option('--report <file.html>', 'also write the HTML evaluation report to this file')
    .option(
      '--no-gate',
      'skip the quality gate (keel.yaml gate: min_roc_auc, min_f1, max_log_loss on the mean CV metrics; slices; min_delta_vs_production)',
    )
    .option('--name <model>', 'registered model name (default: the file name without its extension)')
    .option('-e, --experiment <name>', 'experiment to record the runs under', 'train')
    .option(
      '--json',
      'print one JSON object (best model, leaderboard, run id, model version) instead of the table',
    )
    .option(
      '--prune-margin <auc>',
      'stop a trial after two folds when its ROC-AUC trails the best earlier two-fold mean by more than this (default 0.01; 1 = never)',
      (v: string) => {
        const n = Number(v);
        if (!(n >= 0))
          throw new KeelError('KEEL_E_USAGE', `--prune-margin expects a number >= 0, got "${v}"`);
        return n;
      },
    )
    .option('-q, --quiet', 'no progress lines on stderr (notes about the data are still printed)')
    .action(async (file: string, opts: TrainOptions) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      const err = (line: string) => process.stderr.write(`${line}\n`);
      try {
        const store = await ctx.store();
        const result = await trainTable({
          file,
          target: opts.target,
          drop: opts.drop,
          positive: opts.positive,
          timeBudgetMs: opts.timeBudget,
          trials: opts.trials,
          folds: opts.folds,
          seed: opts.seed ?? ctx.config.seed,
          method: opts.search,
          name: opts.name,
          experiment: opts.experiment,
          workers: opts.workers,
          slices: opts.slice,
          gate: opts.gate
            ? [
                { metric: 'roc_auc', min: ctx.config.gate.min_roc_auc },
                { metric: 'f1', min: ctx.config.gate.min_f1 },
                { metric: 'log_loss', max: ctx.config.gate.max_log_loss },
              ]
            : undefined,
          sliceGates: opts.gate
            ? Object.entries(ctx.config.gate.slices).map(([column, r]) => ({ column, ...r }))
            : undefined,
          championGate:
            opts.gate && ctx.config.gate.min_delta_vs_production !== undefined
              ? { minDelta: ctx.config.gate.min_delta_vs_production }
              : undefined,
          pruneMargin: opts.pruneMargin,
          store,
          artifacts: ctx.artifacts(),
          gitCommit: gitCommit(ctx.loaded.root),
          onMessage: err,
          onTrial: opts.quiet
            ? undefined
            : (t, s) =>
                err(
                  `  trial ${String(t.index + 1).padStart(2)}/${s.planned}  ${t.family.padEnd(19)} ${t.status === 'complete' ? '' : `${t.status} `}` +
                    `roc_auc ${fmt(t.mean.roc_auc)} ± ${fmt(t.std.roc_auc)} (${t.folds.length} fold${t.folds.length === 1 ? '' : 's'}, ${formatSeconds(t.seconds)})` +
                    (s.best ? `  best ${fmt(s.best.mean.roc_auc)}` : ''),
                ),
        });
        const artifactsRoot = resolvePath(ctx.loaded, ctx.config.artifacts);
        const reportPath = opts.report ?? join(artifactsRoot, result.report.html.uri);
        if (opts.report) writeFileSync(opts.report, await ctx.artifacts().get(result.report.html));
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(trainJson(result, reportPath))}\n`
            : `${formatTrain(result, reportPath)}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(4));

function shortParams(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v}`)
    .join(' ');
}

/** The `--json` document: best model, leaderboard, run id, model version. */
export function trainJson(r: TrainTableResult, reportPath: string = r.report.html.uri) {
  const best = r.search.best;
  return {
    best: {
      model: best.family,
      roc_auc: best.mean.roc_auc,
      roc_auc_std: best.std.roc_auc,
      params: best.params,
      trial: best.index,
    },
    leaderboard: r.search.leaderboard.map((row) => ({
      rank: row.rank,
      model: row.family,
      roc_auc: row.mean.roc_auc,
      roc_auc_std: row.std.roc_auc,
      log_loss: row.mean.log_loss,
      f1: row.mean.f1,
      params: row.params,
      trial: row.trial,
      seconds: row.seconds,
      run_id: row.runId ?? null,
    })),
    run_id: r.runId,
    model_version: r.model.version,
    gate: r.gate ? { passed: r.gate.passed, reasons: r.gate.reasons } : null,
    report: {
      html: reportPath,
      json: r.report.json.uri,
      threshold: r.report.data.threshold.value,
      oof_roc_auc: r.report.data.metrics.roc_auc.value,
      oof_roc_auc_ci: r.report.data.metrics.roc_auc.ci,
    },
    model_name: r.model.name,
    target: r.target,
    rows: r.rows,
    folds: r.search.splitter,
    trials: r.search.trials.length,
    stopped_by: r.search.stoppedBy,
    seconds: r.seconds,
  };
}

export function formatTrain(r: TrainTableResult, reportPath: string = r.report.html.uri, top = 10): string {
  const s = r.search;
  const rows = s.leaderboard
    .slice(0, top)
    .map((row) => [
      row.rank,
      row.family,
      row.mean.roc_auc,
      row.std.roc_auc,
      row.mean.log_loss,
      row.mean.f1,
      formatSeconds(row.seconds),
      shortParams(row.params),
    ]);
  const best = s.best;
  const m = r.report.data.metrics;
  const hidden = s.leaderboard.length - Math.min(top, s.leaderboard.length);
  return [
    `Leaderboard (${s.splitter}, ${s.trials.length} trials in ${formatSeconds(s.seconds)}, mean over folds):`,
    renderTable(['rank', 'model', 'roc_auc', 'std', 'log_loss', 'f1', 'cv time', 'params'], rows),
    ...(hidden > 0 ? [`(${hidden} more in the run's select/leaderboard.json)`] : []),
    '',
    `Best: ${best.family}, CV ROC-AUC ${fmt(best.mean.roc_auc)} ± ${fmt(best.std.roc_auc)}`,
    `Out-of-fold ROC-AUC ${fmt(m.roc_auc.value)} (95% CI ${fmt(m.roc_auc.ci[0])}–${fmt(m.roc_auc.ci[1])}); ` +
      `at the max-F1 threshold ${fmt(r.report.data.threshold.value)}: F1 ${fmt(m.f1.value)}, recall ${fmt(m.recall.value)}`,
    `Report (HTML): ${reportPath}`,
    `Run: ${r.runId}`,
    `Registered: ${r.model.name} version ${r.model.version} (refitted on all ${r.rows} rows; no alias set)`,
  ].join('\n');
}
