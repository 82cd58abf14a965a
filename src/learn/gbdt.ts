/**
 * Histogram gradient boosting for binary classification (log loss), LightGBM style: features
 * binned once into bytes, depth-wise trees with histogram subtraction, missing values routed by a
 * learned default direction, row subsampling, early stopping on an evaluation set.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { assertFitted, checkWidth, checkXy, sigmoid } from './base.js';
import { applyBins, fitBins } from './tree/binning.js';
import { addForest, type FlatForest, flatten } from './tree/flat.js';
import { defaultThreads, HistogramHelper, sharedArrays } from './tree/parallel.js';
import { TreeJSONSchema, treeFromJSON, treeToJSON } from './tree/serialize.js';
import { predictTree, type Tree, TreeBuilder } from './tree/tree.js';
import type { Classifier, FitOptions, Matrix } from './types.js';

export interface GradientBoostingParams {
  nEstimators: number;
  learningRate: number;
  maxDepth: number;
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
}

/** Below this many rows a second thread costs more than it saves. */
const PARALLEL_MIN_DATA = 50_000;

export const gradientBoostingDefaults: GradientBoostingParams = {
  nEstimators: 200,
  learningRate: 0.1,
  maxDepth: 6,
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
  nThreads: 0,
};

export class GradientBoostingClassifier implements Classifier {
  readonly kind = 'gradient_boosting';
  readonly params: GradientBoostingParams;
  baseScore_ = 0;
  trees_: Tree[] = [];
  nFeatures_ = 0;
  featureNames_: string[] = [];
  bestIteration_ = -1;
  private fitted = false;
  /** The trees as one flat array set for prediction, built on first use. */
  private flat: FlatForest | null = null;

  constructor(params: Partial<GradientBoostingParams> = {}) {
    this.params = { ...gradientBoostingDefaults, ...params };
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    const p = this.params;
    checkXy(X, y, 'GradientBoostingClassifier');
    if (
      !(p.learningRate > 0) ||
      p.nEstimators < 1 ||
      p.maxDepth < 1 ||
      !(p.subsample > 0 && p.subsample <= 1)
    )
      throw new KeelError(
        'KEEL_E_USAGE',
        `GradientBoostingClassifier: invalid parameters ${JSON.stringify(p)}`,
      );
    const n = X.nRows;
    const F = X.nCols;
    const rng = new Rng(p.seed);
    const mapper = fitBins(X, p.maxBins);
    // Large data: bins, gradients and rows in shared memory so a second thread can build histograms.
    const threads = p.nThreads > 0 ? p.nThreads : defaultThreads();
    const shared = threads > 1 && n >= PARALLEL_MIN_DATA ? sharedArrays(n, F) : null;
    const bins = applyBins(X, mapper, shared?.bins);
    const builder = new TreeBuilder(
      bins,
      F,
      mapper.edges,
      {
        maxDepth: p.maxDepth,
        minChildSamples: p.minChildSamples,
        minChildWeight: p.minChildWeight,
        lambda: p.lambda,
        minSplitGain: p.minSplitGain,
        featureFraction: 1,
        featureFractionByTree: p.colsampleBytree ?? 1,
      },
      shared ? { cols: shared.cols, spill: shared.spill } : {},
    );
    if (!((p.colsampleBytree ?? 1) > 0 && (p.colsampleBytree ?? 1) <= 1))
      throw new KeelError(
        'KEEL_E_USAGE',
        `GradientBoostingClassifier: colsampleBytree must be in (0, 1], got ${p.colsampleBytree}`,
      );
    const wPos = p.scalePosWeight ?? 1;
    if (!(wPos > 0) || !Number.isFinite(wPos))
      throw new KeelError(
        'KEEL_E_USAGE',
        `GradientBoostingClassifier: scalePosWeight must be > 0, got ${wPos}`,
      );
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i];
    const prior = (pos * wPos) / (pos * wPos + (n - pos));
    this.baseScore_ = Math.log(prior / (1 - prior));
    const margin = new Float64Array(n).fill(this.baseScore_);
    const grad = shared?.grad ?? new Float64Array(n);
    const hess = shared?.hess ?? new Float64Array(n);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    const rows = shared?.rows ?? new Int32Array(n);
    const inSample = new Uint8Array(p.subsample < 1 ? n : 0);
    builder.helper = shared ? new HistogramHelper(shared, F, builder.histSize) : null;
    const evalSet = options.eval;
    const evalMargin = evalSet ? new Float64Array(evalSet.X.nRows).fill(this.baseScore_) : null;
    let bestLoss = Number.POSITIVE_INFINITY;
    let bestIter = -1;
    const trees: Tree[] = [];
    try {
      for (let t = 0; t < p.nEstimators; t++) {
        for (let i = 0; i < n; i++) {
          const pr = sigmoid(margin[i]);
          const w = y[i] === 1 ? wPos : 1;
          grad[i] = w * (pr - y[i]);
          hess[i] = w * Math.max(pr * (1 - pr), 1e-16);
        }
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
        } else rows.set(all);
        const tree = builder.grow(rows.subarray(0, m), grad, hess, rng);
        for (let i = 0; i < tree.value.length; i++) tree.value[i] *= p.learningRate;
        trees.push(tree);
        if (m === n) {
          // every row is in a leaf range of the rows array: add leaf values without walking the tree
          const lr = builder.leafRanges;
          const sub = rows.subarray(0, m);
          for (let k = 0; k < lr.length; k += 3) {
            const v = tree.value[lr[k + 2]];
            for (let i = lr[k]; i < lr[k + 1]; i++) margin[sub[i]] += v;
          }
        } else for (let i = 0; i < n; i++) margin[i] += predictTree(tree, X.data, i * F);
        if (evalSet && evalMargin) {
          const E = evalSet.X;
          let loss = 0;
          for (let i = 0; i < E.nRows; i++) {
            evalMargin[i] += predictTree(tree, E.data, i * E.nCols);
            const pr = Math.min(Math.max(sigmoid(evalMargin[i]), 1e-15), 1 - 1e-15);
            loss -= evalSet.y[i] * Math.log(pr) + (1 - evalSet.y[i]) * Math.log(1 - pr);
          }
          if (loss < bestLoss - 1e-12) {
            bestLoss = loss;
            bestIter = t;
          } else if (p.earlyStoppingRounds > 0 && t - bestIter >= p.earlyStoppingRounds) break;
        }
        if (options.onProgress && (t + 1) % 50 === 0)
          options.onProgress((t + 1) / p.nEstimators, `tree ${t + 1}/${p.nEstimators}`);
      }
    } finally {
      builder.helper?.close();
      builder.helper = null;
    }
    this.bestIteration_ = evalSet && p.earlyStoppingRounds > 0 ? bestIter : trees.length - 1;
    this.trees_ = trees.slice(0, this.bestIteration_ + 1);
    this.flat = null;
    this.nFeatures_ = F;
    this.featureNames_ = [...X.names];
    this.fitted = true;
    return this;
  }

  /** Raw margins (log-odds). */
  decisionFunction(X: Matrix): Float64Array {
    assertFitted(this.fitted, 'GradientBoostingClassifier');
    checkWidth(X, this.nFeatures_, 'GradientBoostingClassifier');
    const out = new Float64Array(X.nRows).fill(this.baseScore_);
    this.flat ??= flatten(this.trees_);
    addForest(this.flat, X.data, X.nRows, X.nCols, out);
    return out;
  }

  predictProba(X: Matrix): Float64Array {
    const m = this.decisionFunction(X);
    for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]);
    return m;
  }

  /** Total gain and split count per feature. */
  featureImportance(kind: 'gain' | 'split' = 'gain'): Record<string, number> {
    assertFitted(this.fitted, 'GradientBoostingClassifier');
    return treeImportance(this.trees_, this.featureNames_, kind);
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'GradientBoostingClassifier');
    return {
      params: this.params,
      state: {
        baseScore: this.baseScore_,
        nFeatures: this.nFeatures_,
        featureNames: this.featureNames_,
        bestIteration: this.bestIteration_,
        trees: this.trees_.map(treeToJSON),
      },
    };
  }

  static fromJSON(doc: unknown): GradientBoostingClassifier {
    const d = GbdtJSON.parse(doc);
    const m = new GradientBoostingClassifier(d.params);
    m.baseScore_ = d.state.baseScore;
    m.nFeatures_ = d.state.nFeatures;
    m.featureNames_ = d.state.featureNames;
    m.bestIteration_ = d.state.bestIteration;
    m.trees_ = d.state.trees.map((t) => treeFromJSON(t, d.state.nFeatures));
    m.fitted = true;
    return m;
  }
}

const GbdtJSON = z.object({
  params: z.object({
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
    // absent in documents written before it existed: unweighted
    scalePosWeight: z.number().positive().default(1),
    colsampleBytree: z.number().gt(0).max(1).default(1),
  }),
  state: z.object({
    baseScore: z.number(),
    nFeatures: z.number().int().nonnegative(),
    featureNames: z.array(z.string()),
    bestIteration: z.number().int(),
    trees: z.array(TreeJSONSchema),
  }),
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
