/**
 * The in-process executor: runs a pipeline's steps as soon as their inputs are ready (steps
 * that do not depend on each other run concurrently), records the run in tracking, and emits
 * events the CLI shows as progress. A BullMQ executor will implement the same `runPipeline`
 * contract for distributed runs.
 */
import { KeelError, toKeelError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { ArtifactStore, ParamValue, TrackingStore } from '../track/types.js';
import { applyParamOverrides, type Pipeline, type RunHandle, type StepContext } from './define.js';

export type PipelineEvent =
  | { type: 'run-start'; runId: string; pipeline: string; experiment: string }
  | { type: 'step-start'; step: string }
  | { type: 'step-progress'; step: string; message: string }
  | { type: 'step-retry'; step: string; attempt: number; error: KeelError }
  | { type: 'step-end'; step: string; seconds: number }
  | { type: 'step-fail'; step: string; seconds: number; error: KeelError }
  | { type: 'run-end'; runId: string; status: 'FINISHED' | 'FAILED'; seconds: number; error?: KeelError };

export interface RunOptions {
  store: TrackingStore;
  artifacts: ArtifactStore;
  /** `key=value` overrides of the pipeline's params, as given on the command line. */
  paramOverrides?: Record<string, string>;
  /** Param values given programmatically (take precedence over overrides). */
  params?: Record<string, unknown>;
  /** The project configuration handed to steps as `ctx.config` (the CLI passes keel.yaml's). */
  config?: Record<string, unknown>;
  experiment?: string;
  runName?: string;
  tags?: Record<string, string>;
  gitCommit?: string | null;
  logger?: Logger;
  onEvent?: (event: PipelineEvent) => void;
}

export interface RunResult {
  runId: string;
  status: 'FINISHED' | 'FAILED';
  seconds: number;
  /** Each step's output, by step name (only the steps that finished). */
  outputs: Record<string, unknown>;
  stepSeconds: Record<string, number>;
  error?: KeelError;
}

export async function runPipeline<P extends Record<string, unknown>>(
  pipeline: Pipeline<P>,
  options: RunOptions,
): Promise<RunResult> {
  const { store, artifacts } = options;
  const logger = options.logger ?? silentLogger;
  const emit = options.onEvent ?? (() => {});
  const t0 = performance.now();
  const experiment = options.experiment ?? pipeline.experiment;

  // Params are checked before a run is created, so a usage error leaves no trace in the store.
  const params = {
    ...applyParamOverrides(pipeline.params as P, options.paramOverrides ?? {}),
    ...(options.params ?? {}),
  } as P;

  const run = await store.createRun({
    experiment,
    name: options.runName ?? pipeline.name,
    tags: { 'keel.pipeline': pipeline.name, ...(options.tags ?? {}) },
    gitCommit: options.gitCommit ?? null,
  });
  emit({ type: 'run-start', runId: run.id, pipeline: pipeline.name, experiment });
  const handle = makeRunHandle(run.id, experiment, store, artifacts);
  const outputs: Record<string, unknown> = {};
  const stepSeconds: Record<string, number> = {};

  try {
    await handle.logParams(flattenParams(params));
    await executeSteps(
      pipeline,
      params,
      Object.freeze({ ...(options.config ?? {}) }),
      handle,
      logger,
      emit,
      outputs,
      stepSeconds,
    );
    const seconds = (performance.now() - t0) / 1000;
    await store.logMetrics(run.id, { 'pipeline.seconds': round(seconds) });
    await store.endRun(run.id, 'FINISHED');
    emit({ type: 'run-end', runId: run.id, status: 'FINISHED', seconds });
    return { runId: run.id, status: 'FINISHED', seconds, outputs, stepSeconds };
  } catch (e) {
    const error = toKeelError(e);
    const seconds = (performance.now() - t0) / 1000;
    await store
      .endRun(run.id, 'FAILED', error.describe())
      .catch((endErr) => logger.error({ err: endErr }, 'could not mark the run FAILED'));
    emit({ type: 'run-end', runId: run.id, status: 'FAILED', seconds, error });
    return { runId: run.id, status: 'FAILED', seconds, outputs, stepSeconds, error };
  }
}

async function executeSteps<P extends Record<string, unknown>>(
  pipeline: Pipeline<P>,
  params: P,
  config: Readonly<Record<string, unknown>>,
  run: RunHandle,
  logger: Logger,
  emit: (e: PipelineEvent) => void,
  outputs: Record<string, unknown>,
  stepSeconds: Record<string, number>,
): Promise<void> {
  const started = new Map<string, Promise<unknown>>();
  // Start every step as a promise that awaits its inputs; a failure anywhere rejects the run.
  const start = (s: Pipeline<P>['steps'][number]): Promise<unknown> => {
    const existing = started.get(s.name);
    if (existing) return existing;
    const p = (async () => {
      const entries = await Promise.all(
        Object.entries(s.inputs).map(async ([k, dep]) => [k, await start(dep)] as const),
      );
      const inputs = Object.fromEntries(entries);
      const ctx: StepContext<unknown> = {
        params,
        config,
        step: s.name,
        run,
        logger: logger.child({ step: s.name }),
        progress: (message) => emit({ type: 'step-progress', step: s.name, message }),
      };
      emit({ type: 'step-start', step: s.name });
      const t = performance.now();
      const retries = s.options.retries ?? 0;
      for (let attempt = 0; ; attempt++) {
        try {
          const out = await withTimeout(
            Promise.resolve().then(() => s.run(inputs, ctx)),
            s.options.timeoutMs,
            s.name,
          );
          const seconds = (performance.now() - t) / 1000;
          outputs[s.name] = out;
          stepSeconds[s.name] = seconds;
          await run.logMetrics({ [`step.${s.name}.seconds`]: round(seconds) });
          emit({ type: 'step-end', step: s.name, seconds });
          return out;
        } catch (e) {
          const error = toKeelError(e, { step: s.name });
          if (attempt < retries) {
            emit({ type: 'step-retry', step: s.name, attempt: attempt + 1, error });
            continue;
          }
          emit({ type: 'step-fail', step: s.name, seconds: (performance.now() - t) / 1000, error });
          throw error;
        }
      }
    })();
    started.set(s.name, p);
    return p;
  };
  const all = pipeline.steps.map((s) => start(s));
  // Surface the first failure, but let steps already running settle before the run is closed.
  const settled = await Promise.allSettled(all);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function withTimeout<T>(p: Promise<T>, ms: number | undefined, step: string): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KeelError('KEEL_E_PIPELINE', `step "${step}" timed out after ${ms} ms`, { step })),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function makeRunHandle(
  id: string,
  experiment: string,
  store: TrackingStore,
  artifacts: ArtifactStore,
): RunHandle {
  return {
    id,
    experiment,
    store,
    artifacts,
    logParams: (p) => store.logParams(id, p),
    logMetrics: (m, step) => store.logMetrics(id, m, step),
    setTags: (t) => store.setTags(id, t),
    logDataset: (input) => store.logDatasetInput(id, input),
    logArtifact: async (name, data) => {
      const ref = await artifacts.put(name, data);
      await store.logArtifact(id, ref);
      return ref;
    },
  };
}

/** Params as tracking stores them: scalars only; objects flattened with dots, arrays as JSON. */
function flattenParams(params: Record<string, unknown>, prefix = ''): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = prefix + k;
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else if (typeof v === 'object')
      Object.assign(out, flattenParams(v as Record<string, unknown>, `${key}.`));
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
