/**
 * Random forest of probability trees on the same binned tree builder: each tree sees a bootstrap
 * sample (as integer row weights) and a random subset of features at each node; a leaf holds the
 * share of positives, and the forest averages them. Out-of-bag ROC-AUC is available after fit.
 * RandomForestRegressor grows the same trees on a continuous target (leaves hold means; OOB R²).
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { assertFitted, checkWidth, checkXy } from './base.js';
import { forestThreads, growForestTrees } from './forest-grow.js';
import { treeImportance } from './gbdt.js';
import { rocAuc } from './metrics.js';
import { binned } from './tree/binning.js';
import { addForest, type FlatForest, flatten } from './tree/flat.js';
import { TreeJSONSchema, treeFromJSON, treeToJSON } from './tree/serialize.js';
import { predictTree, type Tree, type TreeParams } from './tree/tree.js';
import type { Classifier, FitOptions, Matrix, Regressor } from './types.js';

export interface RandomForestParams {
  nEstimators: number;
  maxDepth: number;
  minSamplesLeaf: number;
  /** 'sqrt', 'log2', or a fraction of features in (0, 1]. */
  maxFeatures: 'sqrt' | 'log2' | number;
  bootstrap: boolean;
  /** 'best': the best threshold of each candidate feature (random forest); 'random': one random threshold each (extra trees). */
  splitter: 'best' | 'random';
  /** Compute the out-of-bag score after fit (with bootstrap); off saves a prediction per tree. */
  oobScore: boolean;
  maxBins: number;
  seed: number;
  /**
   * Threads that grow trees (scikit-learn's n_jobs): -1 uses every core for forests with at
   * least 2,000,000 rows x trees and one thread below that or inside a worker thread. A tree is
   * the same whichever thread grows it, so the forest does not depend on this.
   */
  nJobs: number;
}

export const randomForestDefaults: RandomForestParams = {
  nEstimators: 100,
  maxDepth: 12,
  minSamplesLeaf: 1,
  maxFeatures: 'sqrt',
  bootstrap: true,
  splitter: 'best',
  oobScore: true,
  maxBins: 254,
  seed: 42,
  nJobs: -1,
};

/**
 * What both forests share: the fitted trees and their mean as the prediction, importance, and the
 * JSON state (one document shape for both kinds).
 */
abstract class Forest {
  readonly params: RandomForestParams;
  trees_: Tree[] = [];
  nFeatures_ = 0;
  featureNames_: string[] = [];
  /** Out-of-bag score after fit (ROC-AUC for the classifier, R² for the regressor; null without bootstrap). */
  oobScore_: number | null = null;
  protected fitted = false;
  private flat: FlatForest | null = null;

  constructor(params: RandomForestParams) {
    this.params = params;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  protected fitted_(X: Matrix, trees: Tree[], oobScore: number | null): void {
    this.trees_ = trees;
    this.oobScore_ = oobScore;
    this.flat = null;
    this.nFeatures_ = X.nCols;
    this.featureNames_ = [...X.names];
    this.fitted = true;
  }

  /** The mean of the trees' outputs per row. */
  protected mean(X: Matrix): Float64Array {
    assertFitted(this.fitted, this.constructor.name);
    checkWidth(X, this.nFeatures_, this.constructor.name);
    const out = new Float64Array(X.nRows);
    this.flat ??= flatten(this.trees_);
    addForest(this.flat, X.data, X.nRows, X.nCols, out);
    const k = this.trees_.length;
    for (let i = 0; i < out.length; i++) out[i] /= k;
    return out;
  }

  featureImportance(kind: 'gain' | 'split' = 'gain'): Record<string, number> {
    assertFitted(this.fitted, this.constructor.name);
    return treeImportance(this.trees_, this.featureNames_, kind);
  }

  toJSON(): unknown {
    assertFitted(this.fitted, this.constructor.name);
    return {
      params: this.params,
      state: {
        nFeatures: this.nFeatures_,
        featureNames: this.featureNames_,
        oobScore: this.oobScore_,
        trees: this.trees_.map(treeToJSON),
      },
    };
  }

  /** Validate a document and rebuild a forest of the kind `make` constructs from its params. */
  protected static restore<T extends Forest>(doc: unknown, make: (params: RandomForestParams) => T): T {
    const d = RfJSON.parse(doc);
    const m = make(d.params);
    m.fitted_(
      { nRows: 0, nCols: d.state.nFeatures, data: new Float64Array(0), names: d.state.featureNames },
      d.state.trees.map((t) => treeFromJSON(t, d.state.nFeatures)),
      d.state.oobScore,
    );
    return m;
  }
}

export class RandomForestClassifier extends Forest implements Classifier {
  readonly kind: string = 'random_forest';

  constructor(params: Partial<RandomForestParams> = {}) {
    super({ ...randomForestDefaults, ...params });
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    checkXy(X, y, 'RandomForestClassifier');
    const { trees, oob } = growForest(X, y, this.params, options, 'RandomForestClassifier', true);
    let score: number | null = null;
    if (oob) {
      const pos = oob.y.reduce((a, b) => a + b, 0);
      score = pos > 0 && pos < oob.y.length ? rocAuc(oob.y, oob.pred) : null;
    }
    this.fitted_(X, trees, score);
    return this;
  }

  /** The share of trees' positive leaf fractions: P(y = 1) per row. */
  predictProba(X: Matrix): Float64Array {
    return this.mean(X);
  }

  static fromJSON(doc: unknown): RandomForestClassifier {
    return Forest.restore(doc, (p) => new RandomForestClassifier(p));
  }
}

/**
 * Extremely randomized trees (Geurts et al. 2006; scikit-learn's ExtraTreesClassifier): the forest
 * above without bootstrap by default, and at each node one random threshold per candidate feature
 * instead of the best one (drawn uniformly over the node's occupied bins, so over quantiles rather
 * than raw values). Predictions, importance and SHAP work as for the random forest.
 */
export class ExtraTreesClassifier extends RandomForestClassifier {
  override readonly kind: string = 'extra_trees';

  constructor(params: Partial<RandomForestParams> = {}) {
    super({ bootstrap: false, splitter: 'random', ...params });
  }

  static override fromJSON(doc: unknown): ExtraTreesClassifier {
    return Forest.restore(doc, (p) => new ExtraTreesClassifier(p));
  }
}

/**
 * The trees of a forest on binned features: each sees a bootstrap sample (integer row weights) and
 * a random feature subset per node; a leaf holds the weighted mean of y (the share of positives
 * for 0/1 labels). With bootstrap, also the out-of-bag prediction of every row some tree left out.
 */
function growForest(
  X: Matrix,
  y: Float64Array,
  p: RandomForestParams,
  options: FitOptions,
  who: string,
  /** 0/1 labels (the classifier): pure nodes are leaves without a split search. */
  classify = false,
): { trees: Tree[]; oob: { y: Float64Array; pred: Float64Array } | null } {
  if (p.nEstimators < 1 || p.maxDepth < 1)
    throw new KeelError('KEEL_E_USAGE', `${who}: invalid parameters ${JSON.stringify(p)}`);
  const n = X.nRows;
  const F = X.nCols;
  const { mapper, bins } = binned(X, p.maxBins);
  const fraction =
    p.maxFeatures === 'sqrt'
      ? Math.sqrt(F) / F
      : p.maxFeatures === 'log2'
        ? Math.max(1, Math.log2(F)) / F
        : Math.min(1, Math.max(1 / F, p.maxFeatures));
  const treeParams: TreeParams = {
    maxDepth: p.maxDepth,
    minChildSamples: p.minSamplesLeaf,
    minChildWeight: 0,
    lambda: 0,
    minSplitGain: 1e-12,
    featureFraction: fraction,
    randomSplits: p.splitter === 'random',
    leafWhenPure: classify,
  };
  const oob = p.bootstrap && p.oobScore !== false;
  const trees: Tree[] = new Array(p.nEstimators);
  const inBags: (Uint8Array | null)[] = new Array(p.nEstimators).fill(null);
  const progress = options.onProgress;
  growForestTrees(
    {
      bins,
      nFeatures: F,
      edges: mapper.edges,
      y,
      params: treeParams,
      seed: p.seed,
      nEstimators: p.nEstimators,
      bootstrap: p.bootstrap,
    },
    forestThreads(p.nJobs, n, p.nEstimators),
    (g) => {
      trees[g.t] = g.tree;
      if (oob) inBags[g.t] = g.inBag;
    },
    progress
      ? (k) => {
          if (k % 25 === 0 || k === p.nEstimators) progress(k / p.nEstimators, `tree ${k}/${p.nEstimators}`);
        }
      : undefined,
  );
  // out-of-bag sums in tree order, so they do not depend on which thread grew which tree
  const oobSum = new Float64Array(oob ? n : 0);
  const oobCount = new Float64Array(oob ? n : 0);
  if (oob)
    for (let t = 0; t < p.nEstimators; t++) {
      const tree = trees[t];
      const inBag = inBags[t]!;
      for (let i = 0; i < n; i++)
        if ((inBag[i >>> 3] & (1 << (i & 7))) === 0) {
          oobSum[i] += predictTree(tree, X.data, i * F);
          oobCount[i]++;
        }
    }
  if (!oob) return { trees, oob: null };
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (oobCount[i] > 0) idx.push(i);
  return {
    trees,
    oob: {
      y: Float64Array.from(idx, (i) => y[i]),
      pred: Float64Array.from(idx, (i) => oobSum[i] / oobCount[i]),
    },
  };
}

/** Random forest regression: the same trees, leaves hold the mean target; out-of-bag R² after fit. */
export class RandomForestRegressor extends Forest implements Regressor {
  readonly kind = 'random_forest_regressor';

  constructor(params: Partial<RandomForestParams> = {}) {
    // scikit-learn's regressor considers every feature at each split by default
    super({ ...randomForestDefaults, maxFeatures: 1, ...params });
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    if (y.length !== X.nRows)
      throw new KeelError(
        'KEEL_E_INPUT',
        `RandomForestRegressor: X has ${X.nRows} rows but y has ${y.length} values`,
      );
    for (let i = 0; i < y.length; i++)
      if (!Number.isFinite(y[i]))
        throw new KeelError(
          'KEEL_E_INPUT',
          `RandomForestRegressor: y has a missing or infinite value at row ${i + 1}`,
        );
    if (X.nRows === 0) throw new KeelError('KEEL_E_INPUT', 'RandomForestRegressor: no rows to fit');
    const { trees, oob } = growForest(X, y, this.params, options, 'RandomForestRegressor');
    this.fitted_(X, trees, oob && oob.y.length > 1 ? r2Score(oob.y, oob.pred) : null);
    return this;
  }

  predict(X: Matrix): Float64Array {
    return this.mean(X);
  }

  static fromJSON(doc: unknown): RandomForestRegressor {
    return Forest.restore(doc, (p) => new RandomForestRegressor(p));
  }
}

function r2Score(y: Float64Array, p: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    sse += (y[i] - p[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return sst > 0 ? 1 - sse / sst : 0;
}

const RfJSON = z.object({
  params: z.object({
    nEstimators: z.number().int(),
    maxDepth: z.number().int(),
    minSamplesLeaf: z.number(),
    maxFeatures: z.union([z.enum(['sqrt', 'log2']), z.number()]),
    bootstrap: z.boolean(),
    splitter: z.enum(['best', 'random']).default('best'),
    // absent in documents written before it existed: computed
    oobScore: z.boolean().default(true),
    maxBins: z.number().int(),
    seed: z.number().int(),
    // absent in documents written before it existed
    nJobs: z.number().int().default(-1),
  }),
  state: z.object({
    nFeatures: z.number().int().nonnegative(),
    featureNames: z.array(z.string()),
    oobScore: z.number().nullable(),
    trees: z.array(TreeJSONSchema),
  }),
});
