/**
 * Pipelines are plain code: a step is a named function of the outputs of the steps it names as
 * inputs, and the DAG is read off those references. No second declaration of the graph.
 *
 *   export default definePipeline({ name: 'churn', params: { data: 'churn.csv' } }, (step) => {
 *     const ingest = step('ingest', (_, ctx) => readCsv(ctx.params.data));
 *     const train = step('train', { ingest }, ({ ingest }) => fit(ingest.frame));
 *     return [train];
 *   });
 */

import { KeelError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ArtifactRef, ArtifactStore, DatasetInput, ParamValue, TrackingStore } from '../track/types.js';

const STEP = Symbol.for('keel.step');
const PIPELINE = Symbol.for('keel.pipeline');

/** What a step function gets besides its inputs. */
export interface StepContext<P> {
  readonly params: Readonly<P>;
  /** The project configuration the runner was given (keel.yaml with overrides), read-only. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The step's own name. */
  readonly step: string;
  readonly run: RunHandle;
  readonly logger: Logger;
  /** Report progress on long work; shown by the CLI under the step. */
  progress(message: string): void;
}

/** The tracking handle of the current run, for steps to record what they did. */
export interface RunHandle {
  readonly id: string;
  readonly experiment: string;
  readonly store: TrackingStore;
  readonly artifacts: ArtifactStore;
  logParams(params: Record<string, ParamValue>): Promise<void>;
  logMetrics(metrics: Record<string, number>, step?: number): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  logDataset(input: DatasetInput): Promise<void>;
  /** Store bytes in the artifact store and attach them to the run under `name`. */
  logArtifact(name: string, data: Uint8Array | string): Promise<ArtifactRef>;
}

export interface StepOptions {
  /** Run the step again this many times when it throws (default 0). */
  retries?: number;
  /** Fail the step when it takes longer than this (milliseconds). */
  timeoutMs?: number;
}

type AnyStep = Step<unknown>;
export type StepInputs = Record<string, AnyStep>;
export type InputValues<D extends StepInputs> = { [K in keyof D]: D[K] extends Step<infer T> ? T : never };

export interface Step<T> {
  readonly [STEP]: true;
  readonly name: string;
  readonly inputs: StepInputs;
  readonly options: StepOptions;
  readonly run: (inputs: Record<string, unknown>, ctx: StepContext<unknown>) => Promise<T> | T;
  /** Phantom field carrying the output type. */
  readonly __output?: T;
}

export interface StepFactory<P> {
  <T>(
    name: string,
    fn: (inputs: Record<string, never>, ctx: StepContext<P>) => Promise<T> | T,
    options?: StepOptions,
  ): Step<T>;
  <D extends StepInputs, T>(
    name: string,
    inputs: D,
    fn: (inputs: InputValues<D>, ctx: StepContext<P>) => Promise<T> | T,
    options?: StepOptions,
  ): Step<T>;
}

const NAME_RE = /^[a-z][a-z0-9_-]*$/i;

function makeStep(name: string, a: unknown, b: unknown, c: unknown): AnyStep {
  if (typeof name !== 'string' || !NAME_RE.test(name))
    throw new KeelError(
      'KEEL_E_PIPELINE',
      `step name ${JSON.stringify(name)} must start with a letter and use letters, digits, _ or -`,
    );
  const [inputs, fn, options] = typeof a === 'function' ? [{}, a, b] : [a, b, c];
  if (typeof fn !== 'function')
    throw new KeelError('KEEL_E_PIPELINE', `step "${name}" needs a function`, { step: name });
  for (const [k, dep] of Object.entries((inputs ?? {}) as Record<string, unknown>)) {
    if (!isStep(dep))
      throw new KeelError(
        'KEEL_E_PIPELINE',
        `step "${name}" input "${k}" is not a step (pass the value returned by step(...))`,
        { step: name },
      );
  }
  return {
    [STEP]: true,
    name,
    inputs: (inputs ?? {}) as StepInputs,
    options: (options ?? {}) as StepOptions,
    run: fn as AnyStep['run'],
  };
}

/** A step factory whose context carries params of type P. */
export function stepFactory<P>(): StepFactory<P> {
  return ((name: string, a: unknown, b?: unknown, c?: unknown) => makeStep(name, a, b, c)) as StepFactory<P>;
}

/** Define a step outside definePipeline (its context's params are untyped). */
export const step: StepFactory<Record<string, unknown>> = stepFactory<Record<string, unknown>>();

export function isStep(x: unknown): x is AnyStep {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[STEP] === true;
}

export interface PipelineDefinition<P> {
  name: string;
  description?: string;
  /** Parameters with their defaults; `keel run --param key=value` overrides them. */
  params?: P;
  /** Default experiment name (defaults to the pipeline's name). */
  experiment?: string;
}

export interface Pipeline<P = Record<string, unknown>> {
  readonly [PIPELINE]: true;
  readonly name: string;
  readonly description: string;
  readonly experiment: string;
  readonly params: Readonly<P>;
  /** Steps in a deterministic topological order. */
  readonly steps: readonly AnyStep[];
}

export function isPipeline(x: unknown): x is Pipeline<Record<string, unknown>> {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PIPELINE] === true;
}

/**
 * Define a pipeline. `build` receives a typed `step` factory and returns the steps (returning
 * only the last ones is enough: every step they depend on is included).
 */
export function definePipeline<P extends Record<string, unknown>>(
  def: PipelineDefinition<P>,
  build: (step: StepFactory<P>) => AnyStep[] | AnyStep,
): Pipeline<P> {
  if (!def || typeof def.name !== 'string' || !NAME_RE.test(def.name))
    throw new KeelError(
      'KEEL_E_PIPELINE',
      `pipeline name ${JSON.stringify(def?.name)} must start with a letter and use letters, digits, _ or -`,
    );
  const built = build(stepFactory<P>());
  const roots = Array.isArray(built) ? built : [built];
  return {
    [PIPELINE]: true,
    name: def.name,
    description: def.description ?? '',
    experiment: def.experiment ?? def.name,
    params: Object.freeze({ ...(def.params ?? ({} as P)) }),
    steps: topoSort(roots, def.name),
  };
}

/** Depth-first topological order: inputs before the steps that use them, in declaration order. */
function topoSort(roots: AnyStep[], pipeline: string): AnyStep[] {
  const order: AnyStep[] = [];
  const state = new Map<AnyStep, 'visiting' | 'done'>();
  const byName = new Map<string, AnyStep>();
  const visit = (s: AnyStep, path: string[]) => {
    if (!isStep(s))
      throw new KeelError('KEEL_E_PIPELINE', `pipeline "${pipeline}" was given something that is not a step`);
    const seen = state.get(s);
    if (seen === 'done') return;
    if (seen === 'visiting')
      throw new KeelError(
        'KEEL_E_PIPELINE',
        `cycle in pipeline "${pipeline}": ${[...path, s.name].join(' -> ')}`,
        { step: s.name },
      );
    const other = byName.get(s.name);
    if (other && other !== s)
      throw new KeelError('KEEL_E_PIPELINE', `two different steps are named "${s.name}"`, { step: s.name });
    byName.set(s.name, s);
    state.set(s, 'visiting');
    for (const dep of Object.values(s.inputs)) visit(dep, [...path, s.name]);
    state.set(s, 'done');
    order.push(s);
  };
  for (const r of roots) visit(r, []);
  if (order.length === 0) throw new KeelError('KEEL_E_PIPELINE', `pipeline "${pipeline}" has no steps`);
  return order;
}

/** Override a pipeline's params from `key=value` strings, keeping each default's type. */
export function applyParamOverrides<P extends Record<string, unknown>>(
  defaults: P,
  overrides: Record<string, string>,
): P {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, text] of Object.entries(overrides)) {
    if (!(key in defaults)) {
      const known = Object.keys(defaults);
      throw new KeelError(
        'KEEL_E_USAGE',
        `unknown parameter "${key}"${known.length ? `; this pipeline takes: ${known.join(', ')}` : '; this pipeline takes none'}`,
        {
          path: ['params', key],
        },
      );
    }
    const d = defaults[key];
    if (typeof d === 'number') {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n))
        throw new KeelError('KEEL_E_USAGE', `parameter "${key}" expects a number, got "${text}"`, {
          path: ['params', key],
        });
      out[key] = n;
    } else if (typeof d === 'boolean') {
      if (!/^(true|false)$/i.test(text))
        throw new KeelError('KEEL_E_USAGE', `parameter "${key}" expects true or false, got "${text}"`, {
          path: ['params', key],
        });
      out[key] = text.toLowerCase() === 'true';
    } else out[key] = text;
  }
  return out as P;
}
