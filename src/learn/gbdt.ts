/**
 * Histogram gradient boosting, LightGBM style: features binned once into bytes, trees grown
 * depth-wise (or leaf-wise, best first, with `maxLeaves`) with histogram subtraction, missing
 * values routed by a learned default direction, row and column subsampling, early stopping on an
 * evaluation set. Objectives: binary log loss and multiclass softmax (one tree per class per
 * round) in GradientBoostingClassifier; squared error and Huber in GradientBoostingRegressor.
 *
 * Inputs: NaN is missing (routed by the split's default direction); ±Infinity are ordinary
 * values (they fall in the first or last bin). Categorical features (named in
 * `categoricalFeatures`, values integer codes ≥ 0 as the ordinal encoder makes them; see
 * FeaturePipeline.categoricalFeatures()) with 2..`maxCatCardinality` distinct codes get native
 * splits: a set of codes goes left, any other code (one never seen in training included) goes
 * right, NaN or a negative code (the ordinal encoder's unknown value) is missing. A non-integer
 * code in training is an error; a column with more codes is split as a number.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import type { ClassWeight } from './base.js';
import {
  assertFitted,
  checkClasses,
  checkRows,
  checkWidth,
  classWeights,
  mostProbable,
  probaMatrix,
  sigmoid,
} from './base.js';
import { applyBins, binned, fitBins, MISSING_BIN } from './tree/binning.js';
import { addForest, addForestAsync, type FlatForest, flatten, PARALLEL_MIN_ROWS } from './tree/flat.js';
import {
  defaultThreads,
  HistogramHelper,
  type SharedBinary,
  type SharedTrainingArrays,
  sharedArrays,
  sharedBinary,
  sharedBinSample,
} from './tree/parallel.js';
import { scoringPool } from './tree/pool.js';
import { TreeJSONSchema, treeFromJSON, treeToJSON } from './tree/serialize.js';
import { predictTree, type Tree, TreeBuilder } from './tree/tree.js';
import type { Classifier, FitOptions, Matrix, Regressor } from './types.js';

export interface GradientBoostingParams {
  nEstimators: number;
  learningRate: number;
  /** Depth limit: the growth limit depth-wise; leaf-wise, an extra bound (0 = none). */
  maxDepth: number;
  /** Leaf-wise (best-first) growth up to this many leaves per tree, LightGBM's num_leaves; 0 = depth-wise. */
  maxLeaves: number;
  maxBins: number;
  /** L2 regularization of leaf values. */
  lambda: number;
  minChildSamples: number;
  minChildWeight: number;
  minSplitGain: number;
  /** Fraction of rows sampled (without replacement) for each tree. */
  subsample: number;
  /** Fraction of features each tree may split on, drawn per tree (XGBoost's colsample_bytree). */
  colsampleBytree: number;
  /** Stop when the evaluation loss has not improved for this many trees (0 = off). */
  earlyStoppingRounds: number;
  seed: number;
  /** Threads for histogram building on large data (0 = up to 2 when available). Results depend on it only in the last bits. */
  nThreads: number;
  /**
   * Weight of every positive row in the loss (XGBoost's scale_pos_weight), e.g. negatives /
   * positives for imbalanced classes; 1 = unweighted. The base score is the weighted prior.
   */
  scalePosWeight: number;
  /**
   * Class weights (scikit-learn's class_weight): 'balanced' (n / (nClasses · count of the class))
   * or a weight per class label ("0", "1", ...; absent classes weigh 1); null = unweighted.
   * Multiplies with scalePosWeight.
   */
  classWeight: ClassWeight | null;
  /** Feature names to split natively as categories (values are integer codes; negative = missing). */
  categoricalFeatures: string[];
  /** A categorical feature with more distinct codes than this is split as a number instead (at most 254). */
  maxCatCardinality: number;
  /** Categorical splits: added to the hessian sum when ordering categories (LightGBM's cat_smooth). */
  catSmooth: number;
  /** Categorical splits: extra L2 in their gain (LightGBM's cat_l2). */
  catL2: number;
  /** Categorical splits: at most this many categories on the smaller side (LightGBM's max_cat_threshold). */
  maxCatThreshold: number;
  /** Categorical splits: rows between candidate splits and at least on the right (LightGBM's min_data_per_group). */
  minDataPerGroup: number;
  /** Categorical splits: a feature with at most this many categories splits one against the rest (LightGBM's max_cat_to_onehot). */
  maxCatToOnehot: number;
}

/** The regressor's loss: squared error or Huber (quadratic within `huberDelta` of the target, linear beyond). */
export interface GradientBoostingRegressorParams
  extends Omit<GradientBoostingParams, 'scalePosWeight' | 'classWeight'> {
  loss: 'squared_error' | 'huber';
  huberDelta: number;
}

/** Below this many rows a second thread costs more than it saves. */
const PARALLEL_MIN_DATA = 50_000;

export const gradientBoostingDefaults: GradientBoostingParams = {
  nEstimators: 200,
  learningRate: 0.1,
  maxDepth: 6,
  maxLeaves: 0,
  maxBins: 254,
  lambda: 1,
  minChildSamples: 20,
  minChildWeight: 1e-3,
  minSplitGain: 0,
  subsample: 1,
  colsampleBytree: 1,
  earlyStoppingRounds: 0,
  seed: 42,
  scalePosWeight: 1,
  classWeight: null,
  nThreads: 0,
  categoricalFeatures: [],
  maxCatCardinality: 64,
  catSmooth: 10,
  catL2: 10,
  maxCatThreshold: 32,
  minDataPerGroup: 100,
  maxCatToOnehot: 4,
};

export const gradientBoostingRegressorDefaults: GradientBoostingRegressorParams = {
  ...(({ scalePosWeight: _s, classWeight: _c, ...rest }) => rest)(gradientBoostingDefaults),
  loss: 'squared_error',
  huberDelta: 1,
};

type Objective = 'binary' | 'multiclass' | 'squared_error' | 'huber';

interface BoostSpec {
  objective: Objective;
  /** Trees per round: the number of classes for multiclass, else 1. */
  K: number;
  /** Weight per class (classification), or null. */
  classW: Float64Array | null;
  huberDelta: number;
}

interface Boosted {
  trees: Tree[];
  baseScores: Float64Array;
  bestIteration: number;
}

type CommonParams = Omit<GradientBoostingParams, 'scalePosWeight' | 'classWeight'>;

function validate(p: CommonParams, what: string): void {
  if (
    !(p.learningRate > 0) ||
    !(p.nEstimators >= 1) ||
    !(p.maxDepth >= 1 || (p.maxLeaves >= 2 && p.maxDepth === 0)) ||
    !(p.subsample > 0 && p.subsample <= 1)
  )
    throw new KeelError('KEEL_E_USAGE', `${what}: invalid parameters ${JSON.stringify(p)}`);
  if (!(p.colsampleBytree > 0 && p.colsampleBytree <= 1))
    throw new KeelError(
      'KEEL_E_USAGE',
      `${what}: colsampleBytree must be in (0, 1], got ${p.colsampleBytree}`,
    );
  if (!(Number.isInteger(p.maxLeaves) && (p.maxLeaves === 0 || p.maxLeaves >= 2)))
    throw new KeelError(
      'KEEL_E_USAGE',
      `${what}: maxLeaves must be 0 (depth-wise) or ≥ 2, got ${p.maxLeaves}`,
    );
  if (!(Number.isInteger(p.maxCatCardinality) && p.maxCatCardinality >= 2 && p.maxCatCardinality <= 254))
    throw new KeelError(
      'KEEL_E_USAGE',
      `${what}: maxCatCardinality must be a whole number in [2, 254], got ${p.maxCatCardinality}`,
    );
}

/**
 * For each categorical feature (by name) of X with at most `limit` distinct codes ≥ 0: its bin
 * edges become one bin per code (over every row, not the binning sample) and the table from bin
 * to code. Non-integer codes are an error; features above the limit stay numeric.
 */
function categoricalBins(
  X: Matrix,
  names: readonly string[],
  limit: number,
  edges: Float64Array[],
  what: string,
): (Int32Array | null)[] | null {
  if (names.length === 0) return null;
  const out: (Int32Array | null)[] = new Array(X.nCols).fill(null);
  const F = X.nCols;
  for (const name of names) {
    const f = X.names.indexOf(name);
    if (f < 0)
      throw new KeelError(
        'KEEL_E_USAGE',
        `${what}: categorical feature "${name}" is not a column of X (${X.names.join(', ')})`,
      );
    const seen = new Set<number>();
    for (let r = 0; r < X.nRows; r++) {
      const v = X.data[r * F + f];
      if (!(v >= 0)) continue; // NaN and negative codes are missing
      if (!Number.isInteger(v))
        throw new KeelError(
          'KEEL_E_INPUT',
          `${what}: categorical feature "${name}" has the non-integer value ${v} at row ${r + 1}`,
          { row: r + 1, column: name },
        );
      if (seen.size <= limit) seen.add(v);
    }
    if (seen.size > limit || seen.size < 2) continue;
    const codes = Int32Array.from([...seen].sort((a, b) => a - b));
    const e = new Float64Array(codes.length);
    for (let b = 0; b < codes.length - 1; b++) e[b] = (codes[b] + codes[b + 1]) / 2;
    e[codes.length - 1] = Number.POSITIVE_INFINITY;
    edges[f] = e;
    out[f] = codes;
  }
  return out.some((c) => c !== null) ? out : null;
}

/**
 * The boosting loop shared by every objective. Trees come round by round, K per round (class k's
 * tree of round t at t·K + k). Binary with no class weights is exactly the original classifier.
 */
/** Per-row weight of label yi: classW (when set) times scalePosWeight for positives (binary). */
function rowWeight(
  objective: BoostSpec['objective'],
  classW: BoostSpec['classW'],
  wPos: number,
  yi: number,
): number {
  return objective === 'binary'
    ? yi === 1
      ? classW
        ? wPos * classW[1]
        : wPos
      : classW
        ? classW[0]
        : 1
    : classW
      ? classW[yi]
      : 1;
}

function boost(
  X: Matrix,
  y: Float64Array,
  p: CommonParams & { scalePosWeight?: number },
  spec: BoostSpec,
  options: FitOptions,
): Boosted {
  const { objective, classW } = spec;
  const n = X.nRows;
  const F = X.nCols;
  // Large data: the builder's copies of the bins, its gradients and the rows in shared memory so a
  // second thread can build histograms. The row-major bins here are only read by the builder.
  const threads = p.nThreads > 0 ? p.nThreads : defaultThreads();
  const shared = threads > 1 && n >= PARALLEL_MIN_DATA ? sharedArrays(n, F) : null;
  const wPos = p.scalePosWeight ?? 1;
  const weights = classW ? Float64Array.from(y, (yi) => rowWeight(objective, classW, wPos, yi)) : null;
  // large binary data: margins, labels and gradients in shared memory, so the helper thread
  // computes half of each tree's gradients (HistogramHelper.gradients)
  const sharedBin = shared && objective === 'binary' ? sharedBinary(n, y, weights, wPos) : null;
  // the helper thread starts (~60 ms) while the features are binned
  // the tree builder keeps its node histograms in the helper's slab: at most 2^depth at a time
  // depth-wise (a level's nodes and their smaller children), about two per leaf leaf-wise
  const slots = p.maxLeaves > 0 ? 2 * p.maxLeaves + 4 : 2 ** Math.min(p.maxDepth, 10) + 4;
  // and sorts half of the features for the bin edges
  const helper = shared
    ? new HistogramHelper(shared, F, F * NB_STRIDE, sharedBin, slots, sharedBinSample(n, F))
    : null;
  try {
    return boostOn(X, y, p, spec, options, shared, sharedBin, helper, weights);
  } finally {
    helper?.close();
  }
}

/** Histogram doubles per feature (256 bins x gradient, hessian, count): TreeBuilder.histSize / F. */
const NB_STRIDE = 256 * 3;

function boostOn(
  X: Matrix,
  y: Float64Array,
  p: CommonParams & { scalePosWeight?: number },
  spec: BoostSpec,
  options: FitOptions,
  shared: SharedTrainingArrays | null,
  sharedBin: SharedBinary | null,
  helper: HistogramHelper | null,
  weights: Float64Array | null,
): Boosted {
  const { objective, K, classW } = spec;
  const n = X.nRows;
  const F = X.nCols;
  const rng = new Rng(p.seed);
  const catNames = p.categoricalFeatures ?? [];
  // bins shared across fits on the same matrix (shareBins) when nothing below changes them
  const cached = !shared && catNames.length === 0 ? binned(X, p.maxBins) : null;
  const edges = cached ? null : (helper?.fitEdges(X, p.maxBins) ?? null);
  const mapper = cached?.mapper ?? (edges ? { edges } : fitBins(X, p.maxBins));
  // a model fit on large data will likely score large batches: the scoring workers start (and
  // compile their kernel) while the trees grow, as a native library's thread pool is up by then;
  // from here, while this thread bins the rows alone (the edges took both threads)
  if (shared) scoringPool().warm();
  const categories = categoricalBins(X, catNames, p.maxCatCardinality, mapper.edges, 'GradientBoosting');
  let bins: Uint8Array | null = cached?.bins ?? applyBins(X, mapper);
  if (categories)
    for (let f = 0; f < F; f++)
      if (categories[f]) for (let r = 0; r < n; r++) if (X.data[r * F + f] < 0) bins[r * F + f] = MISSING_BIN;
  const builder = new TreeBuilder(
    bins,
    F,
    mapper.edges,
    {
      maxDepth: p.maxLeaves > 0 && p.maxDepth === 0 ? Number.POSITIVE_INFINITY : p.maxDepth,
      maxLeaves: p.maxLeaves,
      minChildSamples: p.minChildSamples,
      minChildWeight: p.minChildWeight,
      lambda: p.lambda,
      minSplitGain: p.minSplitGain,
      featureFraction: 1,
      featureFractionByTree: p.colsampleBytree ?? 1,
      ...(categories
        ? {
            categories,
            catSmooth: p.catSmooth,
            catL2: p.catL2,
            maxCatThreshold: p.maxCatThreshold,
            minDataPerGroup: p.minDataPerGroup,
            maxCatToOnehot: p.maxCatToOnehot,
          }
        : {}),
    },
    shared ?? {},
  );
  bins = null; // the builder keeps its own layouts: free the row-major bins (nRows x F bytes)
  const wPos = p.scalePosWeight ?? 1;
  // base scores: the (weighted) prior of each class, or the target's (weighted) mean or median
  const baseScores = new Float64Array(K);
  const rowW = (yi: number) => rowWeight(objective, classW, wPos, yi);
  if (objective === 'binary') {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i];
    const posW = pos * wPos * (classW ? classW[1] : 1);
    const negW = (n - pos) * (classW ? classW[0] : 1);
    const prior = posW / (posW + negW);
    baseScores[0] = Math.log(prior / (1 - prior));
  } else if (objective === 'multiclass') {
    const mass = new Float64Array(K);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = rowW(y[i]);
      mass[y[i]] += w;
      total += w;
    }
    for (let k = 0; k < K; k++) baseScores[k] = Math.log(mass[k] / total);
  } else if (objective === 'squared_error') {
    let s = 0;
    for (let i = 0; i < n; i++) s += y[i];
    baseScores[0] = s / n;
  } else {
    const s = Float64Array.from(y).sort();
    baseScores[0] = n % 2 ? s[n >> 1] : (s[(n >> 1) - 1] + s[n >> 1]) / 2;
  }
  const margin = sharedBin?.margin ?? new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) margin[i * K + k] = baseScores[k];
  const grad = sharedBin?.grad ?? new Float64Array(n);
  const hess = sharedBin?.hess ?? new Float64Array(n);
  // a plain loop: Int32Array.from({ length: n }, fn) iterates generically (~60x slower)
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const rows = shared?.rows ?? new Int32Array(n);
  const inSample = new Uint8Array(p.subsample < 1 ? n : 0);
  const sample = K > 1 && p.subsample < 1 ? new Int32Array(n) : null;
  const prob = objective === 'multiclass' ? new Float64Array(n * K) : null;
  const evalSet = options.eval;
  const E = evalSet?.X;
  if (evalSet && E) {
    checkRows(E, evalSet.y, 'GradientBoosting eval set');
    checkWidth(E, F, 'GradientBoosting eval set');
    if (objective === 'binary' || objective === 'multiclass')
      for (let i = 0; i < E.nRows; i++) {
        const v = evalSet.y[i];
        if (!(Number.isInteger(v) && v >= 0 && v < (objective === 'binary' ? 2 : K)))
          throw new KeelError(
            'KEEL_E_TARGET',
            `GradientBoosting eval set: y has ${v} at row ${i + 1}, not a training class`,
            {
              row: i + 1,
            },
          );
      }
  }
  const evalMargin = E ? new Float64Array(E.nRows * K) : null;
  if (E && evalMargin)
    for (let i = 0; i < E.nRows; i++) for (let k = 0; k < K; k++) evalMargin[i * K + k] = baseScores[k];
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestIter = -1;
  const trees: Tree[] = [];
  const delta = spec.huberDelta;
  builder.helper = helper;
  builder.routeLastLevel = true;
  try {
    for (let t = 0; t < p.nEstimators; t++) {
      // binary without subsampling: the tree's root computes the gradients (both threads, with its
      // histogram: one request for both, see grow)
      const pending = shared !== null && sharedBin !== null && p.subsample >= 1;
      const ghFilled = pending || (shared !== null && builder.helper?.gradients(shared.gh) === true);
      if (objective === 'binary' && !ghFilled) {
        for (let i = 0; i < n; i++) {
          const pr = sigmoid(margin[i]);
          const w = y[i] === 1 ? wPos : 1;
          const wc = weights ? weights[i] : w;
          grad[i] = wc * (pr - y[i]);
          hess[i] = wc * Math.max(pr * (1 - pr), 1e-16);
        }
      } else if (prob) softmaxRows(margin, prob, n, K);
      let m = n;
      if (p.subsample < 1) {
        rows.set(all);
        m = Math.max(1, Math.round(n * p.subsample));
        for (let i = 0; i < m; i++) {
          const j = i + rng.int(n - i);
          const tmp = rows[i];
          rows[i] = rows[j];
          rows[j] = tmp;
        }
        // the sampled rows in ascending order, so the tree's passes over them walk memory forwards
        inSample.fill(0);
        for (let i = 0; i < m; i++) inSample[rows[i]] = 1;
        for (let r = 0, k = 0; r < n; r++) if (inSample[r]) rows[k++] = r;
        sample?.set(rows.subarray(0, m));
      } else rows.set(all);
      for (let k = 0; k < K; k++) {
        if (objective === 'multiclass' && prob) {
          for (let i = 0; i < n; i++) {
            const pk = prob[i * K + k];
            const w = weights ? weights[i] : 1;
            grad[i] = w * (pk - (y[i] === k ? 1 : 0));
            hess[i] = w * Math.max(pk * (1 - pk), 1e-16);
          }
          if (k > 0) {
            if (sample) rows.set(sample.subarray(0, m));
            else rows.set(all);
          }
        } else if (objective === 'squared_error' || objective === 'huber') {
          for (let i = 0; i < n; i++) {
            const w = weights ? weights[i] : 1;
            let r = margin[i] - y[i];
            if (objective === 'huber') r = Math.min(Math.max(r, -delta), delta);
            grad[i] = w * r;
            hess[i] = w;
          }
        }
        // without subsampling the rows are every row: the root's bin counts are known (see grow)
        const tree = builder.grow(rows.subarray(0, m), grad, hess, rng, ghFilled, m === n, pending);
        for (let i = 0; i < tree.value.length; i++) tree.value[i] *= p.learningRate;
        trees.push(tree);
        // the rows the tree grew on sit in leaf ranges of the rows array: add leaf values without
        // walking the tree; only rows left out by subsampling walk it
        // (and the last level's rows, not partitioned, by the side of their split: leafRoutes)
        const sub = rows.subarray(0, m);
        // on two threads when the margins are shared (binary: K = 1)
        if (!(helper && K === 1 && helper.addLeaves(builder.leafRanges, tree.value, m, builder.leafRoutes)))
          builder.addLeafValues(sub, tree.value, margin, K, k);
        if (m < n)
          for (let i = 0; i < n; i++) if (!inSample[i]) margin[i * K + k] += predictTree(tree, X.data, i * F);
        if (E && evalMargin)
          for (let i = 0; i < E.nRows; i++) evalMargin[i * K + k] += predictTree(tree, E.data, i * E.nCols);
      }
      if (evalSet && E && evalMargin) {
        const loss = evalLoss(objective, evalMargin, evalSet.y, E.nRows, K, delta);
        if (loss < bestLoss - 1e-12) {
          bestLoss = loss;
          bestIter = t;
        } else if (p.earlyStoppingRounds > 0 && t - bestIter >= p.earlyStoppingRounds) break;
      }
      if (options.onProgress && (t + 1) % 50 === 0)
        options.onProgress((t + 1) / p.nEstimators, `tree ${t + 1}/${p.nEstimators}`);
    }
  } finally {
    builder.helper = null; // closed by boost()
  }
  const rounds = trees.length / K;
  const bestIteration = evalSet && p.earlyStoppingRounds > 0 ? bestIter : rounds - 1;
  return { trees: trees.slice(0, (bestIteration + 1) * K), baseScores, bestIteration };
}

function softmaxRows(margin: Float64Array, out: Float64Array, n: number, K: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) if (margin[o + k] > mx) mx = margin[o + k];
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(margin[o + k] - mx);
      out[o + k] = e;
      s += e;
    }
    for (let k = 0; k < K; k++) out[o + k] /= s;
  }
}

/** The evaluation set's total loss (unweighted) under the objective. */
function evalLoss(
  objective: Objective,
  margin: Float64Array,
  y: Float64Array,
  n: number,
  K: number,
  delta: number,
): number {
  let loss = 0;
  if (objective === 'binary') {
    for (let i = 0; i < n; i++) {
      const pr = Math.min(Math.max(sigmoid(margin[i]), 1e-15), 1 - 1e-15);
      loss -= y[i] * Math.log(pr) + (1 - y[i]) * Math.log(1 - pr);
    }
  } else if (objective === 'multiclass') {
    for (let i = 0; i < n; i++) {
      const o = i * K;
      let mx = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) if (margin[o + k] > mx) mx = margin[o + k];
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(margin[o + k] - mx);
      loss += Math.log(s) + mx - margin[o + y[i]];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = Math.abs(margin[i] - y[i]);
      loss += objective === 'squared_error' || r <= delta ? (r * r) / 2 : delta * (r - delta / 2);
    }
  }
  return loss;
}

/** What the classifier and the regressor share: trees, margins, importance, JSON state. */
abstract class Boosting {
  baseScore_ = 0;
  /** One base score per class (multiclass); [baseScore_] otherwise. */
  baseScores_: Float64Array = new Float64Array(1);
  trees_: Tree[] = [];
  nFeatures_ = 0;
  featureNames_: string[] = [];
  bestIteration_ = -1;
  protected fitted = false;
  /** Per class, its trees as one flat array set for prediction, built on first use. */
  private flat: FlatForest[] | null = null;
  protected abstract readonly what: string;
  abstract readonly params: { nThreads: number };
  /** Trees per round (classes for multiclass, else 1). */
  protected get treesPerRound(): number {
    return 1;
  }

  protected setFitted(b: Boosted, X: Matrix): void {
    this.baseScores_ = b.baseScores;
    this.baseScore_ = b.baseScores.length === 1 ? b.baseScores[0] : 0;
    this.trees_ = b.trees;
    this.bestIteration_ = b.bestIteration;
    this.flat = null;
    this.nFeatures_ = X.nCols;
    this.featureNames_ = [...X.names];
    this.fitted = true;
    // a model fit on large data will likely score large batches (see boost: the scoring workers
    // are started): the flat trees are built now, not on the first call
    if (X.nRows >= PARALLEL_MIN_ROWS && this.scoringThreads(X.nRows) > 1) this.flatTrees();
  }

  /** Per class, its trees as flat arrays (built once per fitted or loaded model). */
  private flatTrees(): FlatForest[] {
    const K = this.treesPerRound;
    this.flat ??=
      K === 1
        ? [flatten(this.trees_)]
        : Array.from({ length: K }, (_, k) => flatten(this.trees_.filter((_, i) => i % K === k)));
    return this.flat;
  }

  /** Raw outputs: n values (binary log-odds, regression) or n×K row-major (multiclass margins). */
  protected rawScores(X: Matrix): Float64Array {
    assertFitted(this.fitted, this.what);
    checkWidth(X, this.nFeatures_, this.what);
    const K = this.treesPerRound;
    const n = X.nRows;
    const base = this.baseScores_;
    if (K === 1) {
      const out = new Float64Array(n).fill(base[0]);
      // large batches are shared with scoring worker threads; the sums do not depend on it
      addForest(this.flatTrees()[0], X.data, n, X.nCols, out, this.scoringThreads(n));
      return out;
    }
    const out = new Float64Array(n * K);
    const flat = this.flatTrees();
    const col = new Float64Array(n);
    for (let k = 0; k < K; k++) {
      col.fill(base[k]);
      addForest(flat[k], X.data, n, X.nCols, col, this.scoringThreads(n));
      for (let i = 0; i < n; i++) out[i * K + k] = col[i];
    }
    return out;
  }

  /** Threads worth scoring n rows on (asking the OS for the core count costs, so only for large n). */
  private scoringThreads(n: number): number {
    if (n < PARALLEL_MIN_ROWS) return 1;
    const t = this.params.nThreads;
    return t > 0 ? t : defaultThreads();
  }

  /** rawScores with the trees walked on scoring worker threads (one output per row; else rawScores). */
  protected async rawScoresAsync(X: Matrix): Promise<Float64Array> {
    if (this.treesPerRound !== 1) return this.rawScores(X);
    assertFitted(this.fitted, this.what);
    checkWidth(X, this.nFeatures_, this.what);
    const out = new Float64Array(X.nRows).fill(this.baseScores_[0]);
    await addForestAsync(this.flatTrees()[0], X.data, X.nRows, X.nCols, out);
    return out;
  }

  /** Total gain and split count per feature. */
  featureImportance(kind: 'gain' | 'split' = 'gain'): Record<string, number> {
    assertFitted(this.fitted, this.what);
    return treeImportance(this.trees_, this.featureNames_, kind);
  }

  protected state(): Record<string, unknown> {
    return {
      baseScore: this.baseScore_,
      ...(this.baseScores_.length > 1 ? { baseScores: Array.from(this.baseScores_) } : {}),
      nFeatures: this.nFeatures_,
      featureNames: this.featureNames_,
      bestIteration: this.bestIteration_,
      trees: this.trees_.map(treeToJSON),
    };
  }

  protected loadState(s: z.infer<typeof StateJSON>): void {
    this.baseScore_ = s.baseScore;
    this.baseScores_ = s.baseScores ? Float64Array.from(s.baseScores) : Float64Array.of(s.baseScore);
    this.nFeatures_ = s.nFeatures;
    this.featureNames_ = s.featureNames;
    this.bestIteration_ = s.bestIteration;
    this.trees_ = s.trees.map((t) => treeFromJSON(t, s.nFeatures));
    if (this.trees_.length % this.treesPerRound !== 0)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `a ${this.treesPerRound}-class gradient boosting model has ${this.trees_.length} trees, not a whole number of rounds`,
      );
    this.fitted = true;
  }
}

/**
 * Gradient boosting classifier. y holds class labels 0..K-1: two classes train the binary log
 * loss (predictProba gives P(y = 1) per row), three or more the softmax (predictProba gives
 * n×K probabilities, row-major, each row summing to 1). predictProbaMatrix gives the n×K form
 * for both.
 */
export class GradientBoostingClassifier extends Boosting implements Classifier {
  readonly kind = 'gradient_boosting';
  readonly params: GradientBoostingParams;
  /** The number of classes (2 for binary). */
  nClasses_ = 2;
  protected readonly what = 'GradientBoostingClassifier';

  constructor(params: Partial<GradientBoostingParams> = {}) {
    super();
    this.params = { ...gradientBoostingDefaults, ...params };
  }

  protected override get treesPerRound(): number {
    return this.nClasses_ > 2 ? this.nClasses_ : 1;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    const p = this.params;
    const K = checkClasses(X, y, this.what);
    validate(p, this.what);
    const wPos = p.scalePosWeight ?? 1;
    if (!(wPos > 0) || !Number.isFinite(wPos))
      throw new KeelError('KEEL_E_USAGE', `${this.what}: scalePosWeight must be > 0, got ${wPos}`);
    if (K > 2 && wPos !== 1)
      throw new KeelError(
        'KEEL_E_USAGE',
        `${this.what}: scalePosWeight is for two classes; use classWeight with ${K} classes`,
      );
    const classW = classWeights(p.classWeight, y, K, this.what);
    const b = boost(
      X,
      y,
      p,
      { objective: K > 2 ? 'multiclass' : 'binary', K: K > 2 ? K : 1, classW, huberDelta: 1 },
      options,
    );
    this.nClasses_ = K;
    this.setFitted(b, X);
    return this;
  }

  /** Raw margins: log-odds per row (binary) or n×K row-major class scores (multiclass). */
  decisionFunction(X: Matrix): Float64Array {
    return this.rawScores(X);
  }

  /** Binary: P(y = 1) per row. Multiclass: n×K probabilities, row-major, rows summing to 1. */
  predictProba(X: Matrix): Float64Array {
    const m = this.rawScores(X);
    if (this.nClasses_ === 2) {
      for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]);
      return m;
    }
    const out = new Float64Array(m.length);
    softmaxRows(m, out, X.nRows, this.nClasses_);
    return out;
  }

  /** predictProba with the trees walked on scoring worker threads, off the caller's event loop. */
  async predictProbaAsync(X: Matrix): Promise<Float64Array> {
    if (this.nClasses_ !== 2) return this.predictProba(X);
    const m = await this.rawScoresAsync(X);
    for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]);
    return m;
  }

  /** n×K class probabilities (binary too: [1 − p, p]); rows sum to 1. */
  predictProbaMatrix(X: Matrix): Matrix {
    return probaMatrix(this.predictProba(X), X.nRows, this.nClasses_);
  }

  /** The most probable class label per row. */
  predict(X: Matrix): Float64Array {
    return mostProbable(this.predictProbaMatrix(X));
  }

  toJSON(): unknown {
    assertFitted(this.fitted, this.what);
    return {
      params: withoutLaterDefaults(this.params),
      state: { ...this.state(), ...(this.nClasses_ > 2 ? { nClasses: this.nClasses_ } : {}) },
    };
  }

  static fromJSON(doc: unknown): GradientBoostingClassifier {
    const d = GbdtJSON.parse(doc);
    const m = new GradientBoostingClassifier(d.params);
    m.nClasses_ = d.state.nClasses ?? 2;
    if (m.nClasses_ > 2 && d.state.baseScores?.length !== m.nClasses_)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `a ${m.nClasses_}-class gradient boosting model needs ${m.nClasses_} base scores`,
      );
    m.loadState(d.state);
    return m;
  }
}

/** Parameters added after the first model format: written only when set, so a model that does not use them writes the document it always did. */
const LATER_PARAMS = [
  'maxLeaves',
  'classWeight',
  'categoricalFeatures',
  'maxCatCardinality',
  'catSmooth',
  'catL2',
  'maxCatThreshold',
  'minDataPerGroup',
  'maxCatToOnehot',
] as const;

function withoutLaterDefaults(p: GradientBoostingParams): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  for (const k of LATER_PARAMS)
    if (JSON.stringify(p[k]) === JSON.stringify(gradientBoostingDefaults[k])) delete out[k];
  return out;
}

/** Gradient boosting regressor (squared error, or Huber with `loss: 'huber'`). */
export class GradientBoostingRegressor extends Boosting implements Regressor {
  readonly kind = 'gradient_boosting_regressor';
  readonly params: GradientBoostingRegressorParams;
  protected readonly what = 'GradientBoostingRegressor';

  constructor(params: Partial<GradientBoostingRegressorParams> = {}) {
    super();
    this.params = { ...gradientBoostingRegressorDefaults, ...params };
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    const p = this.params;
    checkRows(X, y, this.what);
    for (let i = 0; i < y.length; i++)
      if (!Number.isFinite(y[i]))
        throw new KeelError(
          'KEEL_E_TARGET',
          `${this.what}: y must be finite, found ${y[i]} at row ${i + 1}`,
          {
            row: i + 1,
          },
        );
    validate(p, this.what);
    if (p.loss !== 'squared_error' && p.loss !== 'huber')
      throw new KeelError(
        'KEEL_E_USAGE',
        `${this.what}: loss must be squared_error or huber, got "${p.loss}"`,
      );
    if (!(p.huberDelta > 0))
      throw new KeelError('KEEL_E_USAGE', `${this.what}: huberDelta must be > 0, got ${p.huberDelta}`);
    const b = boost(X, y, p, { objective: p.loss, K: 1, classW: null, huberDelta: p.huberDelta }, options);
    this.setFitted(b, X);
    return this;
  }

  predict(X: Matrix): Float64Array {
    return this.rawScores(X);
  }

  toJSON(): unknown {
    assertFitted(this.fitted, this.what);
    return { params: this.params, state: this.state() };
  }

  static fromJSON(doc: unknown): GradientBoostingRegressor {
    const d = GbdtRegressorJSON.parse(doc);
    const m = new GradientBoostingRegressor(d.params);
    m.loadState(d.state);
    return m;
  }
}

const CommonParamsJSON = z.object({
  nEstimators: z.number().int(),
  learningRate: z.number(),
  maxDepth: z.number().int(),
  maxBins: z.number().int(),
  lambda: z.number(),
  minChildSamples: z.number(),
  minChildWeight: z.number(),
  minSplitGain: z.number(),
  subsample: z.number(),
  earlyStoppingRounds: z.number().int(),
  seed: z.number().int(),
  nThreads: z.number().int().nonnegative().default(0),
  colsampleBytree: z.number().gt(0).max(1).default(1),
  // absent in documents written before they existed: their defaults
  maxLeaves: z.number().int().nonnegative().default(0),
  categoricalFeatures: z.array(z.string()).default([]),
  maxCatCardinality: z.number().int().default(64),
  catSmooth: z.number().nonnegative().default(10),
  catL2: z.number().nonnegative().default(10),
  maxCatThreshold: z.number().int().positive().default(32),
  minDataPerGroup: z.number().nonnegative().default(100),
  maxCatToOnehot: z.number().int().nonnegative().default(4),
});

const StateJSON = z.object({
  baseScore: z.number(),
  baseScores: z.array(z.number()).optional(),
  nFeatures: z.number().int().nonnegative(),
  featureNames: z.array(z.string()),
  bestIteration: z.number().int(),
  trees: z.array(TreeJSONSchema),
});

const GbdtJSON = z.object({
  params: CommonParamsJSON.extend({
    // absent in documents written before it existed: unweighted
    scalePosWeight: z.number().positive().default(1),
    classWeight: z
      .union([z.literal('balanced'), z.record(z.string(), z.number().positive()), z.null()])
      .default(null),
  }),
  state: StateJSON.extend({ nClasses: z.number().int().min(3).optional() }),
});

const GbdtRegressorJSON = z.object({
  params: CommonParamsJSON.extend({
    loss: z.enum(['squared_error', 'huber']),
    huberDelta: z.number().positive(),
  }),
  state: StateJSON,
});

export function treeImportance(
  trees: Tree[],
  names: string[],
  kind: 'gain' | 'split',
): Record<string, number> {
  const acc = new Float64Array(names.length);
  for (const t of trees)
    for (let i = 0; i < t.feature.length; i++)
      if (t.feature[i] >= 0) acc[t.feature[i]] += kind === 'gain' ? t.gain[i] : 1;
  return Object.fromEntries(names.map((n, i) => [n, acc[i]]));
}
