/**
 * Classification and regression metrics, computed as scikit-learn 1.2 does (tie-aware ROC-AUC and
 * average precision, clipped and renormalised log loss, zero_division=0 for precision, recall
 * and F1, calibration bins with `strategy='uniform'`). src/learn/metrics.test.ts checks every
 * function against values scikit-learn computed (src/learn/fixtures/metrics.json).
 *
 * Labels are numbers or strings; the class order of a multiclass result is the sorted union of
 * the labels seen (numbers numerically, strings by code unit), as sklearn's `unique_labels`.
 * A probability matrix is one row per sample and one column per class, column j for class j, so
 * its labels are the integers 0..k-1.
 */
import { KeelError } from '../core/errors.js';

export type Label = number | string;

/** One row per sample, one column per class: either rows of numbers or a row-major block. */
export type ProbabilityMatrix =
  | readonly ArrayLike<number>[]
  | { readonly nRows: number; readonly nCols: number; readonly data: ArrayLike<number> };

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
  /** Mean of the recalls of the two classes (at `threshold`). */
  balancedAccuracy: number;
  /** Area under the precision-recall curve as a step function (sklearn's average_precision_score). */
  averagePrecision: number;
  /** Mean squared difference between P(y = 1) and y. */
  brierScore: number;
}

/** float64 machine epsilon: sklearn 1.2's log_loss `eps='auto'` for float64 probabilities. */
export const LOG_LOSS_EPS = Number.EPSILON;

// ---------------------------------------------------------------- input checks and helpers

function checkSameLength(a: { length: number }, b: { length: number }, what: string, names: string): void {
  if (a.length !== b.length)
    throw new KeelError(
      'KEEL_E_INPUT',
      `${what}: ${a.length} ${names.split('/')[0]} but ${b.length} ${names.split('/')[1]}`,
    );
  if (a.length === 0) throw new KeelError('KEEL_E_INPUT', `${what}: no rows`);
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new KeelError(
    'KEEL_E_INPUT',
    `labels mix numbers and strings (${JSON.stringify(a)} and ${JSON.stringify(b)})`,
  );
}

/** The sorted distinct labels of one or more label arrays (sklearn's unique_labels). */
export function uniqueLabels(...arrays: ArrayLike<Label>[]): Label[] {
  const seen = new Set<Label>();
  for (const a of arrays) for (let i = 0; i < a.length; i++) seen.add(a[i]);
  return [...seen].sort(compareLabels);
}

/** Rows × columns view of a probability matrix, with its shape checked against `n` samples. */
function probabilityRows(
  p: ProbabilityMatrix,
  n: number,
  what: string,
): { k: number; at: (i: number, j: number) => number } {
  if (Array.isArray(p)) {
    const rows = p as readonly ArrayLike<number>[];
    if (rows.length !== n)
      throw new KeelError('KEEL_E_INPUT', `${what}: ${n} labels but ${rows.length} probability rows`);
    const k = n > 0 ? rows[0].length : 0;
    for (let i = 0; i < n; i++)
      if (rows[i].length !== k)
        throw new KeelError(
          'KEEL_E_INPUT',
          `${what}: probability row ${i + 1} has ${rows[i].length} columns, expected ${k}`,
        );
    return { k, at: (i, j) => rows[i][j] };
  }
  const m = p as { nRows: number; nCols: number; data: ArrayLike<number> };
  if (m.nRows !== n)
    throw new KeelError('KEEL_E_INPUT', `${what}: ${n} labels but ${m.nRows} probability rows`);
  const k = m.nCols;
  return { k, at: (i, j) => m.data[i * k + j] };
}

/** Class indices 0..k-1 from labels, for metrics over a probability matrix. */
function classIndices(y: ArrayLike<number>, k: number, what: string): Int32Array {
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!Number.isInteger(c) || c < 0 || c >= k)
      throw new KeelError(
        'KEEL_E_INPUT',
        `${what}: label ${c} at row ${i + 1} is not a column of the ${k}-column probability matrix (expected 0..${k - 1})`,
        { row: i + 1 },
      );
    out[i] = c;
  }
  return out;
}

const safeDiv = (a: number, b: number) => (b === 0 ? 0 : a / b);

// ---------------------------------------------------------------- label metrics

/** Fraction of predictions equal to the true label. */
export function accuracy(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): number {
  checkSameLength(yTrue, yPred, 'accuracy', 'labels/predictions');
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

export interface LabeledConfusionMatrix {
  /** The class order of rows (true) and columns (predicted). */
  labels: Label[];
  /** matrix[i][j]: samples of true class labels[i] predicted as labels[j]. */
  matrix: number[][];
}

/**
 * Confusion matrix over any number of classes (sklearn's confusion_matrix). Without `labels`
 * the classes are the sorted union of both arrays; with them, samples whose true or predicted
 * label is not listed are left out, as sklearn does.
 */
export function labelConfusionMatrix(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  labels?: readonly Label[],
): LabeledConfusionMatrix {
  checkSameLength(yTrue, yPred, 'labelConfusionMatrix', 'labels/predictions');
  const classes = labels ? [...labels] : uniqueLabels(yTrue, yPred);
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => new Array<number>(classes.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) matrix[t][p]++;
  }
  return { labels: classes, matrix };
}

/** Mean recall over the classes present in yTrue (sklearn's balanced_accuracy_score, adjusted=False). */
export function balancedAccuracy(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): number {
  const { matrix } = labelConfusionMatrix(yTrue, yPred);
  let sum = 0;
  let classes = 0;
  for (let i = 0; i < matrix.length; i++) {
    const support = matrix[i].reduce((a, b) => a + b, 0);
    if (support === 0) continue; // a class only predicted, never true: sklearn drops it
    sum += matrix[i][i] / support;
    classes++;
  }
  return sum / classes;
}

export type Average = 'binary' | 'macro' | 'weighted' | 'micro';

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
  /** Samples of the positive class ('binary') or all samples (averages). */
  support: number;
}

export interface PerClassScores {
  labels: Label[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** Precision, recall, F1 and support of every class (undefined ratios are 0, sklearn's zero_division=0). */
export function perClassScores(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  labels?: readonly Label[],
): PerClassScores {
  // counts over every label seen, so a class's predicted and true totals include all samples
  const all = uniqueLabels(yTrue, yPred, labels ?? []);
  const cm = labelConfusionMatrix(yTrue, yPred, all);
  const k = all.length;
  const wanted = labels ? [...labels] : all;
  const index = new Map(all.map((c, i) => [c, i]));
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (const label of wanted) {
    const c = index.get(label)!;
    const tp = cm.matrix[c][c];
    let predicted = 0;
    let actual = 0;
    for (let r = 0; r < k; r++) {
      predicted += cm.matrix[r][c];
      actual += cm.matrix[c][r];
    }
    const p = safeDiv(tp, predicted);
    const r = safeDiv(tp, actual);
    precision.push(p);
    recall.push(r);
    f1.push(safeDiv(2 * p * r, p + r));
    support.push(actual);
  }
  return { labels: wanted, precision, recall, f1, support };
}

/**
 * Precision, recall and F1 (sklearn's precision_recall_fscore_support with zero_division=0).
 * 'binary' reports `posLabel` (default 1) alone; 'macro' is the unweighted mean over the classes
 * of both arrays; 'weighted' weights each class by its support in yTrue; 'micro' counts globally.
 */
export function precisionRecallF1(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  options: { average?: Average; posLabel?: Label } = {},
): PrecisionRecallF1 {
  const average = options.average ?? 'binary';
  const posLabel = options.posLabel ?? 1;
  if (average === 'binary') {
    const s = perClassScores(yTrue, yPred, [posLabel]);
    const extra = uniqueLabels(yTrue, yPred).filter((l) => l !== posLabel);
    if (extra.length > 1)
      throw new KeelError(
        'KEEL_E_INPUT',
        `precisionRecallF1: average 'binary' needs two classes, found ${extra.length + 1}; use 'macro', 'weighted' or 'micro'`,
      );
    return { precision: s.precision[0], recall: s.recall[0], f1: s.f1[0], support: s.support[0] };
  }
  const s = perClassScores(yTrue, yPred);
  const total = s.support.reduce((a, b) => a + b, 0);
  if (average === 'micro') {
    let tp = 0;
    for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) tp++;
    // with every sample in exactly one class, micro precision = recall = F1 = accuracy
    const v = tp / yTrue.length;
    return { precision: v, recall: v, f1: v, support: total };
  }
  const weights =
    average === 'weighted' ? s.support.map((w) => w / total) : s.labels.map(() => 1 / s.labels.length);
  const mean = (v: number[]) => v.reduce((a, x, i) => a + x * weights[i], 0);
  return { precision: mean(s.precision), recall: mean(s.recall), f1: mean(s.f1), support: total };
}

export const precision = (
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  options?: { average?: Average; posLabel?: Label },
) => precisionRecallF1(yTrue, yPred, options).precision;
export const recall = (
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  options?: { average?: Average; posLabel?: Label },
) => precisionRecallF1(yTrue, yPred, options).recall;
export const f1Score = (
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  options?: { average?: Average; posLabel?: Label },
) => precisionRecallF1(yTrue, yPred, options).f1;

// ---------------------------------------------------------------- score metrics (binary)

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

/**
 * One-vs-rest ROC-AUC of a probability matrix (sklearn's roc_auc_score with multi_class='ovr'):
 * the AUC of each column against "label = that column", averaged without weights ('macro') or by
 * class prevalence ('weighted'). y holds column indices 0..k-1.
 */
export function rocAucOvr(
  y: ArrayLike<number>,
  proba: ProbabilityMatrix,
  average: 'macro' | 'weighted' = 'macro',
): number {
  const n = y.length;
  const { k, at } = probabilityRows(proba, n, 'rocAucOvr');
  const cls = classIndices(y, k, 'rocAucOvr');
  let total = 0;
  let weightSum = 0;
  const yc = new Float64Array(n);
  const sc = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    let count = 0;
    for (let i = 0; i < n; i++) {
      yc[i] = cls[i] === c ? 1 : 0;
      count += yc[i];
      sc[i] = at(i, c);
    }
    if (count === 0 || count === n)
      throw new KeelError(
        'KEEL_E_INPUT',
        `rocAucOvr: class ${c} ${count === 0 ? 'never occurs' : 'is every label'} in y, so its one-vs-rest ROC-AUC is undefined`,
      );
    const w = average === 'weighted' ? count / n : 1 / k;
    total += w * rocAuc(yc, sc);
    weightSum += w;
  }
  return total / weightSum;
}

/**
 * Average precision (sklearn's average_precision_score): Σ (R_k − R_{k−1}) · P_k over the
 * distinct scores from highest to lowest. NaN without positives.
 */
export function averagePrecision(y: ArrayLike<number>, score: ArrayLike<number>): number {
  checkSameLength(y, score, 'averagePrecision', 'labels/scores');
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i] === 1 ? 1 : 0;
  if (nPos === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const s = score[idx[i]];
    while (i < n && score[idx[i]] === s) {
      if (y[idx[i]] === 1) tp++;
      seen++;
      i++;
    }
    const r = tp / nPos;
    ap += (r - prevRecall) * (tp / seen);
    prevRecall = r;
  }
  return ap;
}

/**
 * Binary log loss; y holds 0/1, p is P(y = 1), clipped to [eps, 1 − eps]. The default eps is
 * float64's machine epsilon, sklearn 1.2's `eps='auto'`.
 */
export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>, eps = LOG_LOSS_EPS): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

/**
 * Multiclass log loss of a probability matrix: every entry clipped to [eps, 1 − eps], each row
 * renormalised to sum to 1 (as sklearn 1.2 does), then −mean log p[i][y_i]. y holds column
 * indices 0..k-1.
 */
export function multiclassLogLoss(
  y: ArrayLike<number>,
  proba: ProbabilityMatrix,
  eps = LOG_LOSS_EPS,
): number {
  const n = y.length;
  if (n === 0) throw new KeelError('KEEL_E_INPUT', 'multiclassLogLoss: no rows');
  const { k, at } = probabilityRows(proba, n, 'multiclassLogLoss');
  const cls = classIndices(y, k, 'multiclassLogLoss');
  const clip = (v: number) => Math.min(Math.max(v, eps), 1 - eps);
  let s = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) rowSum += clip(at(i, j));
    s -= Math.log(clip(at(i, cls[i])) / rowSum);
  }
  return s / n;
}

/** Mean squared difference between P(y = 1) and y ∈ {0, 1} (sklearn's brier_score_loss). */
export function brierScore(y: ArrayLike<number>, p: ArrayLike<number>): number {
  checkSameLength(y, p, 'brierScore', 'labels/probabilities');
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const d = (y[i] === 1 ? 1 : 0) - p[i];
    s += d * d;
  }
  return s / y.length;
}

/** Binary confusion matrix [[tn, fp], [fn, tp]] of P(y = 1) thresholded at `threshold` (p ≥ threshold is 1). */
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

export interface CalibrationCurve {
  /** Fraction of positives in each non-empty bin. */
  probTrue: number[];
  /** Mean predicted probability in each non-empty bin. */
  probPred: number[];
  /** Samples in each non-empty bin. */
  count: number[];
  /** The bin (0..nBins-1) each entry above describes. */
  bin: number[];
}

/**
 * Reliability diagram bins (sklearn's calibration_curve, strategy='uniform'): nBins equal-width
 * bins over [0, 1], edges as numpy's linspace; a probability equal to an inner edge falls in the
 * lower bin. Empty bins are left out, as sklearn does.
 */
export function calibrationCurve(y: ArrayLike<number>, p: ArrayLike<number>, nBins = 5): CalibrationCurve {
  checkSameLength(y, p, 'calibrationCurve', 'labels/probabilities');
  if (!Number.isInteger(nBins) || nBins < 1)
    throw new KeelError('KEEL_E_INPUT', `calibrationCurve: nBins must be a positive integer, got ${nBins}`);
  const step = 1 / nBins;
  const inner = Array.from({ length: nBins - 1 }, (_, i) => (i + 1) * step); // linspace(0, 1, nBins+1)[1:-1]
  const sums = new Float64Array(nBins);
  const trues = new Float64Array(nBins);
  const totals = new Float64Array(nBins);
  for (let i = 0; i < y.length; i++) {
    const v = p[i];
    if (!(v >= 0 && v <= 1))
      throw new KeelError(
        'KEEL_E_INPUT',
        `calibrationCurve: probability ${v} at row ${i + 1} is outside [0, 1]`,
        {
          row: i + 1,
        },
      );
    // searchsorted(inner, v, side='left'): the number of inner edges strictly below v
    let lo = 0;
    let hi = inner.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (inner[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    sums[lo] += v;
    trues[lo] += y[i] === 1 ? 1 : 0;
    totals[lo]++;
  }
  const out: CalibrationCurve = { probTrue: [], probPred: [], count: [], bin: [] };
  for (let b = 0; b < nBins; b++) {
    if (totals[b] === 0) continue;
    out.probTrue.push(trues[b] / totals[b]);
    out.probPred.push(sums[b] / totals[b]);
    out.count.push(totals[b]);
    out.bin.push(b);
  }
  return out;
}

// ---------------------------------------------------------------- regression

function checkRegression(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, what: string): void {
  checkSameLength(yTrue, yPred, what, 'targets/predictions');
}

/** Root mean squared error. */
export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkRegression(yTrue, yPred, 'rmse');
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i] - yPred[i]) ** 2;
  return Math.sqrt(s / yTrue.length);
}

/** Mean absolute error. */
export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkRegression(yTrue, yPred, 'mae');
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i] - yPred[i]);
  return s / yTrue.length;
}

/**
 * Coefficient of determination 1 − SS_res / SS_tot. With a constant yTrue, sklearn's
 * force_finite rule: 1 for a perfect prediction, else 0.
 */
export function r2(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkRegression(yTrue, yPred, 'r2');
  const n = yTrue.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += yTrue[i];
  m /= n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += (yTrue[i] - yPred[i]) ** 2;
    tot += (yTrue[i] - m) ** 2;
  }
  if (res === 0) return 1;
  if (tot === 0) return 0;
  return 1 - res / tot;
}

// ---------------------------------------------------------------- all binary metrics at once

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
  const specificity = tn + fp === 0 ? Number.NaN : tn / (tn + fp);
  const sensitivity = tp + fn === 0 ? Number.NaN : recall;
  const present = [specificity, sensitivity].filter((v) => !Number.isNaN(v));
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
    balancedAccuracy: present.reduce((a, b) => a + b, 0) / present.length,
    averagePrecision: averagePrecision(y, proba),
    brierScore: brierScore(y, proba),
  };
}
