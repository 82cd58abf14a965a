/**
 * Cross-validation without leakage: for every fold the FeaturePipeline (imputation medians,
 * scaling, one-hot categories) is fitted on that fold's training rows only, then the estimator.
 * Folds are prepared once (`prepareFolds`) so a search can score many estimators on the same
 * matrices.
 */
import { KeelError } from '../core/index.js';
import type { ColumnSpec, Frame } from '../data/index.js';
import { featureSpecs, recordsToFrame, type Schema } from '../data/index.js';
import { binaryMetrics, type Classifier, FeaturePipeline, type Matrix, shareBins } from '../learn/index.js';
import type { Fold, Splitter } from './splitters.js';

/** Metric names computed from binaryMetrics at threshold 0.5. */
export const metricNames = ['roc_auc', 'log_loss', 'accuracy', 'precision', 'recall', 'f1'] as const;
export type MetricName = (typeof metricNames)[number];
/** Larger is better for every metric except log_loss. */
export const lowerIsBetter: ReadonlySet<string> = new Set(['log_loss']);

/** A custom metric: labels (0/1) and P(1) of the test rows to a number. */
export type MetricFn = (y: Float64Array, proba: Float64Array) => number;
export type MetricSpec = MetricName | { name: string; fn: MetricFn };

/** The table to cross-validate: a Frame (or records plus their column specs), 0/1 labels, optional groups. */
export interface CvData {
  frame: Frame | Record<string, unknown>[];
  y: ArrayLike<number>;
  /** The input columns (their specs drive imputation, scaling and one-hot encoding). */
  columns: ColumnSpec[];
  groups?: ArrayLike<number | string>;
}

export interface PreparedFold {
  fold: number;
  train: Matrix;
  test: Matrix;
  yTrain: Float64Array;
  yTest: Float64Array;
  trainRows: Int32Array;
  testRows: Int32Array;
}

export interface FoldResult {
  fold: number;
  trainRows: number;
  testRows: number;
  metrics: Record<string, number>;
  seconds: number;
}

export interface CvResult {
  splitter: string;
  folds: FoldResult[];
  /** Mean over folds of each metric. */
  mean: Record<string, number>;
  /** Sample standard deviation over folds (0 with one fold). */
  std: Record<string, number>;
  seconds: number;
}

/** The columns of a schema a model takes as input (features, not target/ids), for CvData.columns. */
export function inputColumns(schema: Schema): ColumnSpec[] {
  return featureSpecs(schema);
}

function toFrame(data: CvData): Frame {
  if (!Array.isArray(data.frame)) return data.frame;
  const { frame, errors } = recordsToFrame(data.frame, data.columns);
  if (!frame || errors.length > 0)
    throw new KeelError(
      'KEEL_E_INPUT',
      `crossValidate: the records do not match their columns: ${errors
        .slice(0, 3)
        .map((e) => JSON.stringify(e))
        .join('; ')}`,
    );
  return frame;
}

/** Split the rows and fit one FeaturePipeline per fold on its training rows; the matrices are reused by every trial. */
export function prepareFolds(data: CvData, splitter: Splitter): PreparedFold[] {
  const frame = toFrame(data).select(data.columns.map((c) => c.name));
  const y = Float64Array.from(data.y);
  if (y.length !== frame.nRows)
    throw new KeelError('KEEL_E_INPUT', `crossValidate: ${frame.nRows} rows but ${y.length} labels`);
  for (let i = 0; i < y.length; i++)
    if (y[i] !== 0 && y[i] !== 1)
      throw new KeelError('KEEL_E_TARGET', `crossValidate: labels must be 0 or 1, row ${i + 1} is ${y[i]}`);
  const folds: Fold[] = splitter.split({ n: frame.nRows, y, groups: data.groups });
  return folds.map((f, fold) => {
    const trainFrame = frame.take(f.train);
    const pipeline = new FeaturePipeline({ columns: data.columns }).fit(trainFrame);
    const train = pipeline.transform(trainFrame);
    // every trial fits on these same rows: tree models bin them once
    shareBins(train);
    return {
      fold,
      train,
      test: pipeline.transform(frame.take(f.test)),
      yTrain: Float64Array.from(f.train, (r) => y[r]),
      yTest: Float64Array.from(f.test, (r) => y[r]),
      trainRows: f.train,
      testRows: f.test,
    };
  });
}

/** Score the test rows of one fold. */
export function scoreFold(
  y: Float64Array,
  proba: Float64Array,
  metrics: readonly MetricSpec[],
): Record<string, number> {
  const m = binaryMetrics(y, proba);
  const builtIn: Record<MetricName, number> = {
    roc_auc: m.rocAuc,
    log_loss: m.logLoss,
    accuracy: m.accuracy,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
  };
  const out: Record<string, number> = {};
  for (const s of metrics) {
    if (typeof s === 'string') {
      if (!(s in builtIn))
        throw new KeelError('KEEL_E_USAGE', `unknown metric "${s}" (known: ${metricNames.join(', ')})`);
      out[s] = builtIn[s];
    } else out[s.name] = s.fn(y, proba);
  }
  return out;
}

/** Fit a fresh estimator per prepared fold and score it; `folds` may be a prefix (successive halving). */
export function evaluateFolds(
  makeEstimator: () => Classifier,
  folds: readonly PreparedFold[],
  metrics: readonly MetricSpec[] = metricNames,
  splitterName = 'custom',
  onFold?: (result: FoldResult) => boolean | undefined,
): CvResult {
  const t0 = performance.now();
  const results: FoldResult[] = [];
  for (const f of folds) {
    const t = performance.now();
    const clf = makeEstimator().fit(f.train, f.yTrain);
    const proba = clf.predictProba(f.test);
    const r: FoldResult = {
      fold: f.fold,
      trainRows: f.train.nRows,
      testRows: f.test.nRows,
      metrics: scoreFold(f.yTest, proba, metrics),
      seconds: (performance.now() - t) / 1000,
    };
    results.push(r);
    if (onFold?.(r) === false) break;
  }
  return {
    splitter: splitterName,
    folds: results,
    ...aggregate(results),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Mean and sample standard deviation of each metric over folds. */
export function aggregate(folds: readonly FoldResult[]): {
  mean: Record<string, number>;
  std: Record<string, number>;
} {
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  if (folds.length === 0) return { mean, std };
  for (const key of Object.keys(folds[0].metrics)) {
    const v = folds.map((f) => f.metrics[key]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mean[key] = m;
    std[key] = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  }
  return { mean, std };
}

/**
 * Cross-validate an estimator: per fold, fit the feature pipeline and a fresh estimator on the
 * training rows, score the test rows. Returns per-fold metrics and their mean and std.
 */
export function crossValidate(
  makeEstimator: () => Classifier,
  data: CvData,
  splitter: Splitter,
  metrics: readonly MetricSpec[] = metricNames,
): CvResult {
  return evaluateFolds(makeEstimator, prepareFolds(data, splitter), metrics, splitter.name);
}
