import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { KeelError, toKeelError } from '../../core/errors.js';
import { formatSummary } from '../../demo/summary.js';
import { isPipeline, type Pipeline, runPipeline } from '../../pipeline/index.js';
import { gitCommit, type TrackingStore } from '../../track/index.js';
import { type GlobalOptions, openContext } from '../context.js';
import { formatSeconds, progressPrinter } from '../progress.js';

function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new KeelError('KEEL_E_USAGE', `--param expects key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'Run a pipeline file: a TypeScript or JavaScript module whose default export (or `pipeline` export)\n' +
        'is made with definePipeline(). Every run is tracked (params, metrics, artifacts, data hashes);\n' +
        'a failure is recorded as a FAILED run with its error and exits 1.\n' +
        'Example: keel run examples/telco/pipeline.ts --param data=../shared/data/telco_churn.csv',
    )
    .argument('<file>', 'the pipeline file')
    .option('-p, --param <key=value>', 'override a pipeline parameter (repeatable)', collectParam, {})
    .option('-e, --experiment <name>', "experiment to record the run under (default: the pipeline's)")
    .option('-q, --quiet', 'no progress lines')
    .action(
      async (file: string, opts: { param: Record<string, string>; experiment?: string; quiet?: boolean }) => {
        const ctx = openContext(program.opts<GlobalOptions>());
        try {
          const store = await ctx.store();
          const pipeline = await loadPipelineFile(file, store, opts.experiment ?? ctx.config.project);
          const result = await runPipeline(pipeline, {
            store,
            artifacts: ctx.artifacts(),
            config: ctx.config,
            paramOverrides: opts.param,
            experiment: opts.experiment,
            gitCommit: gitCommit(ctx.loaded.root),
            logger: ctx.logger,
            onEvent: opts.quiet ? undefined : progressPrinter(),
          });
          if (result.status === 'FAILED') throw result.error;
          const o = result.outputs as Record<string, never>;
          const ev = o.evaluate as { results: never; best: never } | undefined;
          if (ev && o.gate && o.register && o.promote && o.split) {
            process.stdout.write(
              `${formatSummary({ runId: result.runId, seconds: result.seconds, results: ev.results, best: ev.best, gate: o.gate, registered: o.register, promotion: o.promote, split: o.split })}\n`,
            );
          } else {
            const steps = Object.entries(result.stepSeconds).map(([k, s]) => `${k} ${formatSeconds(s)}`);
            process.stdout.write(
              `run ${result.runId} finished in ${formatSeconds(result.seconds)}: ${steps.join(', ')}\n`,
            );
          }
        } finally {
          await ctx.close();
        }
      },
    );
}

/**
 * Import a pipeline file. When it cannot be loaded (missing, throws on import, exports no
 * pipeline) the attempt is still recorded as a FAILED run, so the failure is visible in tracking.
 */
export async function loadPipelineFile(
  file: string,
  store: TrackingStore,
  experiment: string,
): Promise<Pipeline> {
  const path = resolve(file);
  try {
    if (!existsSync(path))
      throw new KeelError('KEEL_E_FILE_NOT_FOUND', `pipeline file not found: ${file}`, { file });
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      const inner = toKeelError(e);
      throw new KeelError(
        inner.code === 'KEEL_E_INTERNAL' ? 'KEEL_E_PIPELINE' : inner.code,
        `pipeline file ${file} failed to load: ${inner.message}`,
        { ...inner.where, file },
        { cause: e },
      );
    }
    const candidate = mod.default ?? mod.pipeline;
    if (!isPipeline(candidate))
      throw new KeelError(
        'KEEL_E_PIPELINE',
        `${file} does not export a pipeline: make its default export definePipeline(...)`,
        { file },
      );
    return candidate as Pipeline;
  } catch (e) {
    const err = toKeelError(e, { file });
    const run = await store.createRun({
      experiment,
      name: basename(file),
      tags: { 'keel.pipeline_file': file },
    });
    await store.endRun(run.id, 'FAILED', err.describe());
    throw err;
  }
}
