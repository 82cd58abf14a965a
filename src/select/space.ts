/**
 * Declarative search spaces. A distribution is plain data ({ type: 'logUniform' as const, low, high }), so
 * a space can be printed, stored with a run and sampled deterministically. A search space is a
 * list of model families; each family's parameters exist only when that family is chosen (the
 * conditional structure of the space).
 */
import { KeelError, type Rng } from '../core/index.js';
import {
  type Classifier,
  ExtraTreesClassifier,
  GradientBoostingClassifier,
  LogisticRegression,
  RandomForestClassifier,
  type RandomForestParams,
} from '../learn/index.js';

export type ParamValue = number | string | boolean;

export type Distribution =
  | { type: 'uniform'; low: number; high: number }
  | { type: 'logUniform'; low: number; high: number }
  | { type: 'int'; low: number; high: number; log?: boolean }
  | { type: 'choice'; values: readonly ParamValue[] };

export const uniform = (low: number, high: number): Distribution =>
  checkRange({ type: 'uniform' as const, low, high });
export const logUniform = (low: number, high: number): Distribution => {
  if (!(low > 0)) throw new KeelError('KEEL_E_USAGE', `logUniform needs low > 0, got ${low}`);
  return checkRange({ type: 'logUniform' as const, low, high });
};
export const int = (low: number, high: number, options: { log?: boolean } = {}): Distribution => {
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw new KeelError('KEEL_E_USAGE', `int needs whole bounds, got [${low}, ${high}]`);
  if (options.log && low < 1) throw new KeelError('KEEL_E_USAGE', `int with log needs low >= 1, got ${low}`);
  return checkRange({ type: 'int' as const, low, high, log: options.log ?? false });
};
export const choice = (values: readonly ParamValue[]): Distribution => {
  if (values.length === 0) throw new KeelError('KEEL_E_USAGE', 'choice needs at least one value');
  return { type: 'choice', values: [...values] };
};

function checkRange<D extends { low: number; high: number }>(d: D): D {
  if (!(Number.isFinite(d.low) && Number.isFinite(d.high) && d.low <= d.high))
    throw new KeelError('KEEL_E_USAGE', `a range needs finite low <= high, got [${d.low}, ${d.high}]`);
  return d;
}

export type Params = Record<string, ParamValue>;

/** A model family: its parameter space, known-good defaults, and how to build an estimator. */
export interface ModelFamily {
  name: string;
  space: Record<string, Distribution>;
  /** Tried first by random search: a sensible configuration. */
  defaults: Params;
  make(params: Params, seed: number): Classifier;
}

/** One point of the space: a family and its parameters. */
export interface Candidate {
  family: string;
  params: Params;
}

/** Draw one value. */
export function sample(d: Distribution, rng: Rng): ParamValue {
  switch (d.type) {
    case 'uniform':
      return d.low + rng.next() * (d.high - d.low);
    case 'logUniform':
      return Math.exp(Math.log(d.low) + rng.next() * (Math.log(d.high) - Math.log(d.low)));
    case 'int':
      if (d.log) {
        const v = Math.exp(Math.log(d.low) + rng.next() * (Math.log(d.high + 1) - Math.log(d.low)));
        return Math.min(d.high, Math.floor(v));
      }
      return d.low + rng.int(d.high - d.low + 1);
    case 'choice':
      return d.values[rng.int(d.values.length)];
  }
}

/** `points` values spread over the distribution (linear, geometric, or every choice), deduplicated, in order. */
export function gridValues(d: Distribution, points = 3): ParamValue[] {
  if (d.type === 'choice') return [...d.values];
  if (points < 1) throw new KeelError('KEEL_E_USAGE', `grid points must be >= 1, got ${points}`);
  const at = (t: number): number => {
    const log = d.type === 'logUniform' || (d.type === 'int' && d.log);
    const v = log
      ? Math.exp(Math.log(d.low) + t * (Math.log(d.high) - Math.log(d.low)))
      : d.low + t * (d.high - d.low);
    return d.type === 'int' ? Math.round(v) : v;
  };
  const out: number[] = [];
  for (let i = 0; i < points; i++) {
    const v = at(points === 1 ? 0.5 : i / (points - 1));
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** A candidate with every parameter of its family drawn from the space. */
export function sampleCandidate(family: ModelFamily, rng: Rng): Candidate {
  const params: Params = {};
  for (const key of Object.keys(family.space).sort()) params[key] = sample(family.space[key], rng);
  return { family: family.name, params };
}

/** Every combination of gridValues over the family's parameters (keys sorted, last key fastest). */
export function gridCandidates(family: ModelFamily, points = 3): Candidate[] {
  const keys = Object.keys(family.space).sort();
  let combos: Params[] = [{}];
  for (const k of keys) {
    const values = gridValues(family.space[k], points);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  return combos.map((params) => ({ family: family.name, params }));
}

const num = (p: Params, k: string): number => {
  const v = p[k];
  if (typeof v !== 'number')
    throw new KeelError('KEEL_E_USAGE', `parameter "${k}" must be a number, got ${v}`);
  return v;
};

export const logisticFamily: ModelFamily = {
  name: 'logistic_regression',
  space: { C: logUniform(1e-3, 100) },
  defaults: { C: 1 },
  make: (p) => new LogisticRegression({ C: num(p, 'C') }),
};

/** A forest family's sampled parameters as the estimator's (random forests and extra trees alike). */
function forestParams(p: Params, seed: number): Partial<RandomForestParams> {
  return {
    nEstimators: num(p, 'nEstimators'),
    maxDepth: num(p, 'maxDepth'),
    minSamplesLeaf: num(p, 'minSamplesLeaf'),
    maxFeatures: p.maxFeatures === 'sqrt' || p.maxFeatures === 'log2' ? p.maxFeatures : num(p, 'maxFeatures'),
    // the search scores on held-out folds; the out-of-bag score would be computed and unused
    oobScore: false,
    seed,
  };
}

export const randomForestFamily: ModelFamily = {
  name: 'random_forest',
  space: {
    nEstimators: int(40, 150),
    maxDepth: int(4, 16),
    minSamplesLeaf: int(1, 40, { log: true }),
    maxFeatures: choice(['sqrt', 0.2, 0.35]),
  },
  defaults: { nEstimators: 60, maxDepth: 10, minSamplesLeaf: 5, maxFeatures: 'sqrt' },
  make: (p, seed) => new RandomForestClassifier(forestParams(p, seed)),
};

export const extraTreesFamily: ModelFamily = {
  name: 'extra_trees',
  space: {
    nEstimators: int(40, 150),
    maxDepth: int(4, 16),
    minSamplesLeaf: int(1, 40, { log: true }),
    maxFeatures: choice(['sqrt', 'log2', 0.35]),
  },
  defaults: { nEstimators: 60, maxDepth: 12, minSamplesLeaf: 3, maxFeatures: 'sqrt' },
  make: (p, seed) => new ExtraTreesClassifier(forestParams(p, seed)),
};

export const gradientBoostingFamily: ModelFamily = {
  name: 'gradient_boosting',
  space: {
    nEstimators: int(50, 300),
    learningRate: logUniform(0.02, 0.3),
    maxDepth: int(2, 6),
    minChildSamples: int(5, 100, { log: true }),
    subsample: uniform(0.6, 1),
    lambda: logUniform(0.1, 10),
  },
  defaults: {
    nEstimators: 150,
    learningRate: 0.05,
    maxDepth: 3,
    minChildSamples: 20,
    subsample: 0.8,
    lambda: 1,
  },
  make: (p, seed) =>
    new GradientBoostingClassifier({
      nEstimators: num(p, 'nEstimators'),
      learningRate: num(p, 'learningRate'),
      maxDepth: num(p, 'maxDepth'),
      minChildSamples: num(p, 'minChildSamples'),
      subsample: num(p, 'subsample'),
      lambda: num(p, 'lambda'),
      seed,
    }),
};

/** Logistic regression, random forest, extra trees and gradient boosting with the spaces above. */
export function defaultFamilies(): ModelFamily[] {
  return [logisticFamily, randomForestFamily, extraTreesFamily, gradientBoostingFamily];
}
