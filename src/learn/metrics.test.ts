/**
 * Keel's metrics against scikit-learn's values on the same inputs. The fixture and its inputs
 * come from src/learn/fixtures/make_metrics_fixtures.py (regenerate with
 * `/usr/bin/python3 src/learn/fixtures/make_metrics_fixtures.py`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  binaryMetrics,
  brierScore,
  calibrationCurve,
  f1Score,
  labelConfusionMatrix,
  logLoss,
  mae,
  multiclassLogLoss,
  perClassScores,
  precision,
  precisionRecallF1,
  r2,
  recall,
  rmse,
  rocAuc,
  rocAucOvr,
} from './metrics.js';

type Prf = { precision: number; recall: number; f1: number };
interface BinaryCase {
  name: string;
  y: number[];
  p: number[];
  expected: {
    accuracy: number;
    balanced_accuracy: number;
    prf_binary: Prf;
    prf_macro: Prf;
    prf_weighted: Prf;
    prf_micro: Prf;
    confusion_matrix: [[number, number], [number, number]];
    roc_auc?: number;
    log_loss?: number;
    average_precision?: number;
    brier: number;
    calibration_5: { prob_true: number[]; prob_pred: number[] };
    calibration_10: { prob_true: number[]; prob_pred: number[] };
  };
}
interface MulticlassCase {
  name: string;
  y: number[];
  proba: number[][];
  pred: number[];
  expected: {
    accuracy: number;
    balanced_accuracy: number;
    prf_macro: Prf;
    prf_weighted: Prf;
    prf_micro: Prf;
    confusion_matrix: { labels: number[]; matrix: number[][] };
    log_loss: number;
    roc_auc_ovr_macro?: number;
    roc_auc_ovr_weighted?: number;
  };
}
interface LabelCase {
  name: string;
  y_true: (number | string)[];
  y_pred: (number | string)[];
  expected: {
    accuracy: number;
    balanced_accuracy: number;
    prf_macro: Prf;
    prf_weighted: Prf;
    prf_micro: Prf;
    confusion_matrix: { labels: (number | string)[]; matrix: number[][] };
  };
}
interface RegressionCase {
  name: string;
  y: number[];
  pred: number[];
  expected: { rmse: number; mae: number; r2: number };
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/metrics.json', import.meta.url), 'utf8')) as {
  sklearn: string;
  binary: BinaryCase[];
  multiclass: MulticlassCase[];
  labels: LabelCase[];
  regression: RegressionCase[];
};

/**
 * 1e-9 absolute: every value is a ratio of counts or a mean of at most a few hundred terms, so
 * Keel and NumPy differ only by summation order (about 1e-15 here).
 */
const TOL = 1e-9;
const close = (actual: number, expected: number, what: string) => {
  expect(Math.abs(actual - expected), `${what}: keel ${actual} vs sklearn ${expected}`).toBeLessThanOrEqual(
    TOL,
  );
};
const closeAll = (actual: number[], expected: number[], what: string) => {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) close(actual[i], expected[i], `${what}[${i}]`);
};
const closePrf = (actual: Prf, expected: Prf, what: string) => {
  close(actual.precision, expected.precision, `${what} precision`);
  close(actual.recall, expected.recall, `${what} recall`);
  close(actual.f1, expected.f1, `${what} f1`);
};

describe(`metrics match scikit-learn ${fixture.sklearn}`, () => {
  it('has a fixture with every kind of case', () => {
    expect(fixture.binary.length).toBeGreaterThanOrEqual(6);
    expect(fixture.multiclass.length).toBeGreaterThanOrEqual(3);
    expect(fixture.labels.length).toBeGreaterThanOrEqual(2);
    expect(fixture.regression.length).toBeGreaterThanOrEqual(4);
  });

  for (const c of fixture.binary) {
    it(`binary: ${c.name}`, () => {
      const e = c.expected;
      const pred = c.p.map((v) => (v >= 0.5 ? 1 : 0));
      close(accuracy(c.y, pred), e.accuracy, 'accuracy');
      close(balancedAccuracy(c.y, pred), e.balanced_accuracy, 'balancedAccuracy');
      closePrf(precisionRecallF1(c.y, pred), e.prf_binary, 'binary');
      closePrf(precisionRecallF1(c.y, pred, { average: 'macro' }), e.prf_macro, 'macro');
      closePrf(precisionRecallF1(c.y, pred, { average: 'weighted' }), e.prf_weighted, 'weighted');
      closePrf(precisionRecallF1(c.y, pred, { average: 'micro' }), e.prf_micro, 'micro');
      close(precision(c.y, pred), e.prf_binary.precision, 'precision()');
      close(recall(c.y, pred), e.prf_binary.recall, 'recall()');
      close(f1Score(c.y, pred), e.prf_binary.f1, 'f1Score()');
      close(brierScore(c.y, c.p), e.brier, 'brierScore');
      for (const bins of [5, 10] as const) {
        const cal = calibrationCurve(c.y, c.p, bins);
        const want = e[`calibration_${bins}`];
        closeAll(cal.probTrue, want.prob_true, `calibration ${bins} probTrue`);
        closeAll(cal.probPred, want.prob_pred, `calibration ${bins} probPred`);
        expect(cal.count.reduce((a, b) => a + b, 0)).toBe(c.y.length);
      }
      const m = binaryMetrics(c.y, c.p);
      expect(m.confusionMatrix).toEqual(e.confusion_matrix);
      close(m.accuracy, e.accuracy, 'binaryMetrics.accuracy');
      close(m.balancedAccuracy, e.balanced_accuracy, 'binaryMetrics.balancedAccuracy');
      close(m.precision, e.prf_binary.precision, 'binaryMetrics.precision');
      close(m.recall, e.prf_binary.recall, 'binaryMetrics.recall');
      close(m.f1, e.prf_binary.f1, 'binaryMetrics.f1');
      close(m.brierScore, e.brier, 'binaryMetrics.brierScore');
      if (e.roc_auc !== undefined) {
        close(rocAuc(c.y, c.p), e.roc_auc, 'rocAuc');
        close(m.rocAuc, e.roc_auc, 'binaryMetrics.rocAuc');
      } else expect(m.rocAuc).toBeNaN();
      if (e.log_loss !== undefined) {
        close(logLoss(c.y, c.p), e.log_loss, 'logLoss');
        close(m.logLoss, e.log_loss, 'binaryMetrics.logLoss');
      }
      if (e.average_precision !== undefined) {
        close(averagePrecision(c.y, c.p), e.average_precision, 'averagePrecision');
        close(m.averagePrecision, e.average_precision, 'binaryMetrics.averagePrecision');
      } else expect(averagePrecision(c.y, c.p)).toBeNaN();
    });
  }

  for (const c of fixture.multiclass) {
    it(`multiclass: ${c.name}`, () => {
      const e = c.expected;
      close(accuracy(c.y, c.pred), e.accuracy, 'accuracy');
      close(balancedAccuracy(c.y, c.pred), e.balanced_accuracy, 'balancedAccuracy');
      closePrf(precisionRecallF1(c.y, c.pred, { average: 'macro' }), e.prf_macro, 'macro');
      closePrf(precisionRecallF1(c.y, c.pred, { average: 'weighted' }), e.prf_weighted, 'weighted');
      closePrf(precisionRecallF1(c.y, c.pred, { average: 'micro' }), e.prf_micro, 'micro');
      expect(labelConfusionMatrix(c.y, c.pred)).toEqual(e.confusion_matrix);
      close(multiclassLogLoss(c.y, c.proba), e.log_loss, 'multiclassLogLoss (rows)');
      const k = c.proba[0].length;
      const block = { nRows: c.proba.length, nCols: k, data: Float64Array.from(c.proba.flat()) };
      close(multiclassLogLoss(c.y, block), e.log_loss, 'multiclassLogLoss (block)');
      if (e.roc_auc_ovr_macro !== undefined && e.roc_auc_ovr_weighted !== undefined) {
        close(rocAucOvr(c.y, c.proba), e.roc_auc_ovr_macro, 'rocAucOvr macro');
        close(rocAucOvr(c.y, block, 'weighted'), e.roc_auc_ovr_weighted, 'rocAucOvr weighted');
      }
    });
  }

  for (const c of fixture.labels) {
    it(`labels: ${c.name}`, () => {
      const e = c.expected;
      close(accuracy(c.y_true, c.y_pred), e.accuracy, 'accuracy');
      close(balancedAccuracy(c.y_true, c.y_pred), e.balanced_accuracy, 'balancedAccuracy');
      closePrf(precisionRecallF1(c.y_true, c.y_pred, { average: 'macro' }), e.prf_macro, 'macro');
      closePrf(precisionRecallF1(c.y_true, c.y_pred, { average: 'weighted' }), e.prf_weighted, 'weighted');
      closePrf(precisionRecallF1(c.y_true, c.y_pred, { average: 'micro' }), e.prf_micro, 'micro');
      expect(labelConfusionMatrix(c.y_true, c.y_pred)).toEqual(e.confusion_matrix);
    });
  }

  for (const c of fixture.regression) {
    it(`regression: ${c.name}`, () => {
      close(rmse(c.y, c.pred), c.expected.rmse, 'rmse');
      close(mae(c.y, c.pred), c.expected.mae, 'mae');
      close(r2(c.y, c.pred), c.expected.r2, 'r2');
    });
  }
});

describe('metrics: contracts beyond the fixture', () => {
  it('per-class scores name their classes in sorted order', () => {
    const s = perClassScores(['b', 'a', 'c', 'a'], ['b', 'a', 'a', 'a']);
    expect(s.labels).toEqual(['a', 'b', 'c']);
    expect(s.support).toEqual([2, 1, 1]);
    expect(s.precision).toEqual([2 / 3, 1, 0]);
    expect(s.recall).toEqual([1, 1, 0]);
  });

  it('an explicit label list fixes the confusion matrix order and drops other labels', () => {
    expect(labelConfusionMatrix([2, 1, 0, 9], [2, 0, 0, 1], [2, 1, 0])).toEqual({
      labels: [2, 1, 0],
      matrix: [
        [1, 0, 0],
        [0, 0, 1],
        [0, 0, 1],
      ],
    });
  });

  it('rejects what it cannot score, with the reason', () => {
    expect(() => accuracy([1, 0], [1])).toThrow(/2 labels but 1 predictions/);
    expect(() => accuracy([], [])).toThrow(/no rows/);
    expect(() => precisionRecallF1([0, 1, 2], [0, 1, 2])).toThrow(/'binary' needs two classes, found 3/);
    expect(() => uniqueMixed()).toThrow(/mix numbers and strings/);
    expect(() =>
      rocAucOvr(
        [0, 3],
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    ).toThrow(/label 3 at row 2 is not a column/);
    const flat = { nRows: 2, nCols: 2, data: [0.5, 0.5, 0.5, 0.5] };
    expect(() => rocAucOvr([0, 0], flat)).toThrow(/class 0 is every label in y/);
    expect(() => multiclassLogLoss([0, 1], [[1, 0]])).toThrow(/2 labels but 1 probability rows/);
    expect(() => multiclassLogLoss([0, 1], [[1, 0], [0.5]])).toThrow(/row 2 has 1 columns, expected 2/);
    expect(() => calibrationCurve([0, 1], [0.2, 1.5])).toThrow(/1.5 at row 2 is outside \[0, 1\]/);
    expect(() => calibrationCurve([0, 1], [0.2, 0.5], 0)).toThrow(/nBins must be a positive integer/);
    expect(() => rmse([1, 2], [1])).toThrow(/2 targets but 1 predictions/);
  });

  it('log loss stays finite on confident mistakes (clipped at float64 epsilon, as sklearn 1.2)', () => {
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(Number.EPSILON), 12);
    expect(multiclassLogLoss([2], [[1, 0, 0]])).toBeCloseTo(
      -Math.log(Number.EPSILON / (1 - Number.EPSILON + 2 * Number.EPSILON)),
      9,
    );
  });
});

function uniqueMixed() {
  return accuracy([1, 'a'], [1, 'a']) + balancedAccuracy([1, 'a'], [1, 'a']);
}
