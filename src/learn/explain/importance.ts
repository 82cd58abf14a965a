/**
 * Global feature importance: the mean |SHAP| per feature (from treeShap) and permutation
 * importance (model-agnostic: how much a score drops when one column is shuffled). Split-count
 * and gain importances come from the tree classifiers' own `featureImportance`.
 */
import { KeelError } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { rocAuc } from '../metrics.js';
import type { Matrix } from '../types.js';
import type { ShapValues } from './treeshap.js';

/** Mean absolute SHAP value per feature, by name. */
export function meanAbsShap(shap: ShapValues): Record<string, number> {
  const acc = new Float64Array(shap.nCols);
  for (let r = 0; r < shap.nRows; r++)
    for (let j = 0; j < shap.nCols; j++) acc[j] += Math.abs(shap.values[r * shap.nCols + j]);
  return Object.fromEntries(shap.names.map((n, j) => [n, shap.nRows > 0 ? acc[j] / shap.nRows : 0]));
}

export interface PermutationImportance {
  /** The score on the unshuffled rows. */
  baseline: number;
  /** Per feature: mean and standard deviation (over repeats) of baseline − shuffled score. */
  mean: Record<string, number>;
  std: Record<string, number>;
}

/**
 * Permutation importance (as sklearn.inspection.permutation_importance): for each column, shuffle
 * it `nRepeats` times (seeded) and record how much `score(y, predict(X))` falls. The default
 * score is ROC-AUC of P(y = 1); pass any higher-is-better score.
 */
export function permutationImportance(
  predict: (X: Matrix) => Float64Array,
  X: Matrix,
  y: ArrayLike<number>,
  options: {
    nRepeats?: number;
    seed?: number;
    score?: (y: ArrayLike<number>, p: Float64Array) => number;
  } = {},
): PermutationImportance {
  const nRepeats = options.nRepeats ?? 5;
  const score = options.score ?? rocAuc;
  if (y.length !== X.nRows)
    throw new KeelError('KEEL_E_INPUT', `permutationImportance: X has ${X.nRows} rows but y has ${y.length}`);
  if (!Number.isInteger(nRepeats) || nRepeats < 1)
    throw new KeelError(
      'KEEL_E_INPUT',
      `permutationImportance: nRepeats must be a whole number ≥ 1, got ${nRepeats}`,
    );
  const rng = new Rng(options.seed ?? 0);
  const baseline = score(y, predict(X));
  const data = Float64Array.from(X.data);
  const shuffled: Matrix = { nRows: X.nRows, nCols: X.nCols, data, names: X.names };
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  const order = Int32Array.from({ length: X.nRows }, (_, i) => i);
  for (let j = 0; j < X.nCols; j++) {
    const drops: number[] = [];
    for (let k = 0; k < nRepeats; k++) {
      rng.shuffle(order);
      for (let r = 0; r < X.nRows; r++) data[r * X.nCols + j] = X.data[order[r] * X.nCols + j];
      drops.push(baseline - score(y, predict(shuffled)));
    }
    for (let r = 0; r < X.nRows; r++) data[r * X.nCols + j] = X.data[r * X.nCols + j];
    const m = drops.reduce((a, b) => a + b, 0) / nRepeats;
    mean[X.names[j]] = m;
    std[X.names[j]] = Math.sqrt(drops.reduce((a, b) => a + (b - m) ** 2, 0) / nRepeats);
  }
  return { baseline, mean, std };
}
