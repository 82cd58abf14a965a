/** Binary classification metrics, computed as scikit-learn does (tie-aware ROC-AUC, clipped log loss). */
import { KeelError } from '../core/errors.js';

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  logLoss: number;
  /** [[tn, fp], [fn, tp]] */
  confusionMatrix: [[number, number], [number, number]];
  threshold: number;
  n: number;
}

/** Area under the ROC curve (ties get half credit, as the Mann-Whitney statistic). NaN with a single class. */
export function rocAuc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i] === 1 ? 1 : 0;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]] === score[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]] === 1) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>, eps = 1e-15): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

export function confusionMatrix(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  threshold = 0.5,
): [[number, number], [number, number]] {
  let tn = 0;
  let fp = 0;
  let fn = 0;
  let tp = 0;
  for (let i = 0; i < y.length; i++) {
    const pred = p[i] >= threshold ? 1 : 0;
    if (y[i] === 1) pred ? tp++ : fn++;
    else pred ? fp++ : tn++;
  }
  return [
    [tn, fp],
    [fn, tp],
  ];
}

/** All the binary metrics at once; y holds 0/1, proba P(y = 1). Precision/recall/F1 are 0 when undefined (sklearn's zero_division=0). */
export function binaryMetrics(
  y: ArrayLike<number>,
  proba: ArrayLike<number>,
  threshold = 0.5,
): BinaryMetrics {
  if (y.length !== proba.length)
    throw new KeelError(
      'KEEL_E_INPUT',
      `binaryMetrics: ${y.length} labels but ${proba.length} probabilities`,
    );
  if (y.length === 0) throw new KeelError('KEEL_E_INPUT', 'binaryMetrics: no rows');
  const cm = confusionMatrix(y, proba, threshold);
  const [[tn, fp], [fn, tp]] = cm;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    accuracy: (tp + tn) / y.length,
    precision,
    recall,
    f1,
    rocAuc: rocAuc(y, proba),
    logLoss: logLoss(y, proba),
    confusionMatrix: cm,
    threshold,
    n: y.length,
  };
}
