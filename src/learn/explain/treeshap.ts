/**
 * Exact TreeSHAP (Lundberg et al. 2018, "Consistent Individualized Feature Attribution for Tree
 * Ensembles", Algorithm 2; the path bookkeeping follows the reference tree_shap code): for each
 * row, the Shapley value of every feature for the ensemble's raw output, with E[f(x) | x_S]
 * taken over the training distribution as the trees recorded it (each node's cover: hessian sum
 * for boosting, bootstrap weight for forests). Additive: base value + Σ contributions equals
 * the raw output (the log-odds margin for gradient boosting, the probability for a forest).
 *
 * Reads the fitted trees only (the `Tree` arrays the classifiers keep); a missing value follows
 * the split's learned default direction, exactly as prediction does.
 */
import { KeelError } from '../../core/errors.js';
import type { RandomForestClassifier } from '../forest.js';
import type { GradientBoostingClassifier, GradientBoostingRegressor } from '../gbdt.js';
import { goesLeft, type Tree } from '../tree/tree.js';
import type { Matrix } from '../types.js';

export interface ShapValues {
  /** contributions[row * nCols + feature] */
  readonly values: Float64Array;
  readonly nRows: number;
  readonly nCols: number;
  readonly names: readonly string[];
  /** E[f(X)] under the trees' covers: the output with no feature known. */
  readonly baseValue: number;
  /** What the values add up to with baseValue: 'margin' (log-odds; a class's score for multiclass), 'probability' or 'value' (regression). */
  readonly output: 'margin' | 'probability' | 'value';
}

type TreeModel = GradientBoostingClassifier | GradientBoostingRegressor | RandomForestClassifier;

/** The trees and how their outputs combine: out = bias + scale · Σ tree(x). */
export interface TreeEnsemble {
  trees: readonly Tree[];
  bias: number;
  scale: number;
  nFeatures: number;
  names: readonly string[];
  output: 'margin' | 'probability' | 'value';
}

/**
 * The ensemble view of a fitted gradient boosting model or random forest classifier. A
 * multiclass gradient boosting model has one ensemble per class: pass `classIndex` (its
 * contributions add up to that class's margin, before the softmax).
 */
export function ensembleOf(model: TreeModel, classIndex?: number): TreeEnsemble {
  if (model.trees_.length === 0)
    throw new KeelError('KEEL_E_NOT_FITTED', `${model.constructor.name} is not fitted yet: call fit() first`);
  if (model.kind === 'gradient_boosting' && (model as GradientBoostingClassifier).nClasses_ > 2) {
    const m = model as GradientBoostingClassifier;
    const K = m.nClasses_;
    if (classIndex === undefined || !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < K))
      throw new KeelError(
        'KEEL_E_USAGE',
        `TreeSHAP of a ${K}-class model explains one class at a time: pass a class index in 0..${K - 1}`,
      );
    return {
      trees: m.trees_.filter((_, i) => i % K === classIndex),
      bias: m.baseScores_[classIndex],
      scale: 1,
      nFeatures: m.nFeatures_,
      names: m.featureNames_,
      output: 'margin',
    };
  }
  if (model.kind === 'gradient_boosting' || model.kind === 'gradient_boosting_regressor') {
    const m = model as GradientBoostingClassifier;
    return {
      trees: m.trees_,
      bias: m.baseScore_,
      scale: 1,
      nFeatures: m.nFeatures_,
      names: m.featureNames_,
      output: model.kind === 'gradient_boosting' ? 'margin' : 'value',
    };
  }
  const f = model as RandomForestClassifier;
  return {
    trees: f.trees_,
    bias: 0,
    scale: 1 / f.trees_.length,
    nFeatures: f.nFeatures_,
    names: f.featureNames_,
    output: 'probability',
  };
}

/** The cover-weighted mean leaf value of a tree: its output when no feature is known. */
export function treeExpectedValue(t: Tree, node = 0): number {
  if (t.feature[node] === -1) return t.value[node];
  const w = t.cover[node];
  const l = t.left[node];
  const r = t.right[node];
  if (!(w > 0)) return (treeExpectedValue(t, l) + treeExpectedValue(t, r)) / 2;
  return (t.cover[l] * treeExpectedValue(t, l) + t.cover[r] * treeExpectedValue(t, r)) / w;
}

/** SHAP values of every row of X for a fitted tree model (or a TreeEnsemble); `classIndex` for a multiclass model. */
export function treeShap(model: TreeModel | TreeEnsemble, X: Matrix, classIndex?: number): ShapValues {
  const e =
    'trees' in model && 'bias' in model
      ? (model as TreeEnsemble)
      : ensembleOf(model as TreeModel, classIndex);
  if (X.nCols !== e.nFeatures)
    throw new KeelError(
      'KEEL_E_INPUT',
      `treeShap: the model was fitted on ${e.nFeatures} features, got ${X.nCols}`,
    );
  const d = X.nCols;
  const values = new Float64Array(X.nRows * d);
  let base = e.bias;
  const maxDepth = Math.max(0, ...e.trees.map(depthOf));
  const path = new PathBuffer(maxDepth);
  const phi = new Float64Array(d);
  for (const t of e.trees) base += e.scale * treeExpectedValue(t);
  for (let r = 0; r < X.nRows; r++) {
    phi.fill(0);
    for (const t of e.trees) recurse(t, X.data, r * d, phi, path, 0, 0, 0, 1, 1, -1);
    for (let j = 0; j < d; j++) values[r * d + j] = e.scale * phi[j];
  }
  return { values, nRows: X.nRows, nCols: d, names: [...X.names], baseValue: base, output: e.output };
}

function depthOf(t: Tree): number {
  let max = 0;
  const stack = [0, 0];
  while (stack.length) {
    const dep = stack.pop()!;
    const n = stack.pop()!;
    if (t.feature[n] === -1) max = Math.max(max, dep);
    else stack.push(t.left[n], dep + 1, t.right[n], dep + 1);
  }
  return max;
}

/** The paths of all recursion levels in one buffer (each level copies its parent's path and extends it by one). */
class PathBuffer {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
  constructor(maxDepth: number) {
    const size = ((maxDepth + 3) * (maxDepth + 4)) / 2;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }
  copy(from: number, to: number, n: number): void {
    this.feature.copyWithin(to, from, from + n);
    this.zero.copyWithin(to, from, from + n);
    this.one.copyWithin(to, from, from + n);
    this.weight.copyWithin(to, from, from + n);
  }
}

function extend(p: PathBuffer, at: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[at + depth] = feature;
  p.zero[at + depth] = zero;
  p.one[at + depth] = one;
  p.weight[at + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.weight[at + i + 1] += (one * p.weight[at + i] * (i + 1)) / (depth + 1);
    p.weight[at + i] = (zero * p.weight[at + i] * (depth - i)) / (depth + 1);
  }
}

function unwind(p: PathBuffer, at: number, depth: number, index: number): void {
  const one = p.one[at + index];
  const zero = p.zero[at + index];
  let next = p.weight[at + depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = p.weight[at + i];
      p.weight[at + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (p.weight[at + i] * zero * (depth - i)) / (depth + 1);
    } else p.weight[at + i] = (p.weight[at + i] * (depth + 1)) / (zero * (depth - i));
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1];
    p.zero[at + i] = p.zero[at + i + 1];
    p.one[at + i] = p.one[at + i + 1];
  }
}

function unwoundSum(p: PathBuffer, at: number, depth: number, index: number): number {
  const one = p.one[at + index];
  const zero = p.zero[at + index];
  let next = p.weight[at + depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = p.weight[at + i] - (tmp * zero * (depth - i)) / (depth + 1);
    } else if (zero !== 0) total += p.weight[at + i] / zero / ((depth - i) / (depth + 1));
  }
  return total;
}

/**
 * One node of Algorithm 2. The parent's path (depth + 1 elements, the first a placeholder)
 * starts at `parentAt`; this node's copy starts right after it, so every level has its own.
 */
function recurse(
  t: Tree,
  x: Float64Array,
  rowOffset: number,
  phi: Float64Array,
  p: PathBuffer,
  node: number,
  depth: number,
  parentAt: number,
  zero: number,
  one: number,
  feature: number,
): void {
  const at = parentAt + depth + 1;
  p.copy(parentAt, at, depth + 1);
  extend(p, at, depth, zero, one, feature);
  if (t.feature[node] === -1) {
    const v = t.value[node];
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(p, at, depth, i);
      phi[p.feature[at + i]] += w * (p.one[at + i] - p.zero[at + i]) * v;
    }
    return;
  }
  const f = t.feature[node];
  const v = x[rowOffset + f];
  const goLeft = goesLeft(t, node, v);
  const hot = goLeft ? t.left[node] : t.right[node];
  const cold = goLeft ? t.right[node] : t.left[node];
  const w = t.cover[node];
  const hotZero = w > 0 ? t.cover[hot] / w : 0.5;
  const coldZero = w > 0 ? t.cover[cold] / w : 0.5;
  let inZero = 1;
  let inOne = 1;
  let d = depth;
  // a feature already split on above: undo its path element, and carry its fractions down
  let k = 0;
  while (k <= d && p.feature[at + k] !== f) k++;
  if (k <= d) {
    inZero = p.zero[at + k];
    inOne = p.one[at + k];
    unwind(p, at, d, k);
    d -= 1;
  }
  recurse(t, x, rowOffset, phi, p, hot, d + 1, at, hotZero * inZero, inOne, f);
  recurse(t, x, rowOffset, phi, p, cold, d + 1, at, coldZero * inZero, 0, f);
}
