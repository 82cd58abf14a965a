import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { categoricalColumn, Frame, numericColumn } from '../data/index.js';
import type { ColumnSpec } from '../data/schema.js';
import { churnProblem } from './churn.testkit.js';
import {
  binaryMetrics,
  ExtraTreesClassifier,
  FeaturePipeline,
  GradientBoostingClassifier,
  LogisticRegression,
  type Matrix,
  MODEL_FORMAT_VERSION,
  Model,
  RandomForestClassifier,
  rocAuc,
  stratifiedSplit,
} from './index.js';

/** A seeded problem with a clear signal: y depends on x0, x1 and an interaction; x3 is noise with missing values. */
function problem(n: number, seed = 1): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const d = 4;
  const data = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = [
      rng.normal(),
      rng.normal(),
      rng.next() < 0.5 ? 1 : 0,
      rng.next() < 0.1 ? Number.NaN : rng.normal(),
    ];
    data.set(x, i * d);
    const z = 1.5 * x[0] - x[1] + 1.2 * x[2] * x[0] + 0.3 * rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
  }
  return { X: { nRows: n, nCols: d, data, names: ['a', 'b', 'c', 'noise'] }, y };
}

const take = (m: Matrix, y: Float64Array, from: number, to: number) => ({
  X: { ...m, nRows: to - from, data: m.data.slice(from * m.nCols, to * m.nCols) },
  y: y.slice(from, to),
});

describe('metrics (values as scikit-learn computes them)', () => {
  it('ROC-AUC with ties, log loss, precision/recall/F1 and the confusion matrix', () => {
    // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    // ties count half: roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    const m = binaryMetrics(Float64Array.from([0, 0, 1, 1, 1]), Float64Array.from([0.2, 0.6, 0.7, 0.4, 0.9]));
    expect(m.confusionMatrix).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(m.accuracy).toBeCloseTo(0.6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    // log_loss([0,0,1,1,1], [...]) = -mean(log(0.8), log(0.4), log(0.7), log(0.4), log(0.9))
    expect(m.logLoss).toBeCloseTo(
      -(Math.log(0.8) + Math.log(0.4) + Math.log(0.7) + Math.log(0.4) + Math.log(0.9)) / 5,
      12,
    );
    expect(binaryMetrics([0, 1], [0, 1]).logLoss).toBeCloseTo(1e-15, 10); // clipped, finite
    expect(binaryMetrics([0, 0], [0.1, 0.2]).precision).toBe(0); // zero_division=0
    expect(() => binaryMetrics([0, 1], [0.5])).toThrow(/2 labels but 1 probabilities/);
  });
});

describe('stratifiedSplit', () => {
  it('keeps class balance, covers every row once and is deterministic', () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const s = stratifiedSplit(y, { train: 0.7, validation: 0.15, test: 0.15 }, 5);
    const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const rate = (idx: Int32Array) => Array.from(idx).filter((i) => y[i] === 1).length / idx.length;
    expect(rate(s.test)).toBeCloseTo(0.25, 2);
    expect(rate(s.validation)).toBeCloseTo(0.25, 2);
    expect(Math.abs(s.test.length - 150)).toBeLessThanOrEqual(1); // rounding per class
    expect(stratifiedSplit(y, { train: 0.7, validation: 0.15, test: 0.15 }, 5)).toEqual(s);
    expect(stratifiedSplit(y, { train: 0.7, validation: 0.15, test: 0.15 }, 6).test).not.toEqual(s.test);
    expect(() => stratifiedSplit(y, { train: 0.7, validation: 0.2, test: 0.2 })).toThrow(/sum to 1/);
  });
});

describe.each([
  ['LogisticRegression', () => new LogisticRegression({ C: 1 })],
  [
    'GradientBoostingClassifier',
    () => new GradientBoostingClassifier({ nEstimators: 60, maxDepth: 4, seed: 3 }),
  ],
  ['RandomForestClassifier', () => new RandomForestClassifier({ nEstimators: 30, maxDepth: 8, seed: 3 })],
])('%s (shared estimator contract)', (_name, make) => {
  const { X, y } = problem(3000);
  const train = take(X, y, 0, 2000);
  const test = take(X, y, 2000, 3000);
  const imputed = (m: Matrix) => ({ ...m, data: m.data.map((v) => (Number.isNaN(v) ? 0 : v)) });

  it('learns the signal: test ROC-AUC > 0.85, probabilities in [0, 1]', () => {
    const clf = make();
    expect(clf.fit(imputed(train.X), train.y)).toBe(clf);
    const p = clf.predictProba(imputed(test.X));
    expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(rocAuc(test.y, p)).toBeGreaterThan(0.85);
  });

  it('refuses to predict before fit, a single-class target and a wrong width', () => {
    expect(() => make().predictProba(train.X)).toThrow(/not fitted yet/);
    expect(() => make().fit(imputed(train.X), new Float64Array(2000))).toThrow(/single class/);
    const clf = make().fit(imputed(train.X), train.y);
    expect(() => clf.predictProba({ ...train.X, nCols: 3, data: new Float64Array(6), nRows: 2 })).toThrow(
      /fitted on 4 features, got 3/,
    );
  });

  it('round-trips through JSON with bit-identical predictions, and is deterministic', () => {
    const clf = make().fit(imputed(train.X), train.y);
    const back = Model.fromJSON({
      format: 'keel.model',
      formatVersion: 1,
      signature: { inputs: [], target: { name: 'y', classes: ['0', '1'], positive: '1' } },
      pipeline: { params: { impute: 'median', scale: true, missingIndicator: true }, steps: [] },
      classifier: { kind: clf.kind, model: JSON.parse(JSON.stringify(clf.toJSON())) },
      threshold: 0.5,
      metadata: {},
    }).classifier;
    expect(Array.from(back.predictProba(imputed(test.X)))).toEqual(
      Array.from(clf.predictProba(imputed(test.X))),
    );
    expect(Array.from(make().fit(imputed(train.X), train.y).predictProba(imputed(test.X)))).toEqual(
      Array.from(clf.predictProba(imputed(test.X))),
    );
  });
});

describe('GradientBoostingClassifier', () => {
  const { X, y } = problem(4000, 2);
  const train = take(X, y, 0, 3000);
  const valid = take(X, y, 3000, 4000);

  it('routes missing values (NaN) by a learned direction and handles a constant column', () => {
    const withConst = {
      ...train.X,
      nCols: 5,
      names: [...train.X.names, 'const'],
      data: new Float64Array(3000 * 5),
    };
    for (let i = 0; i < 3000; i++) {
      withConst.data.set(train.X.data.subarray(i * 4, i * 4 + 4), i * 5);
      withConst.data[i * 5 + 4] = 7;
    }
    const clf = new GradientBoostingClassifier({ nEstimators: 40, maxDepth: 3 }).fit(withConst, train.y);
    const p = clf.predictProba(withConst);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(clf.featureImportance('split').const).toBe(0);
    expect(clf.featureImportance('gain').a).toBeGreaterThan(clf.featureImportance('gain').noise);
  });

  it('training loss does not rise with more trees; early stopping keeps the best iteration', () => {
    const loss = (k: number) =>
      binaryMetrics(
        train.y,
        new GradientBoostingClassifier({ nEstimators: k, maxDepth: 3 })
          .fit(train.X, train.y)
          .predictProba(train.X),
      ).logLoss;
    const losses = [5, 20, 60].map(loss);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(losses[1]);
    const es = new GradientBoostingClassifier({
      nEstimators: 500,
      learningRate: 0.3,
      maxDepth: 6,
      minChildSamples: 2,
      earlyStoppingRounds: 10,
    }).fit(train.X, train.y, {
      eval: valid,
    });
    expect(es.trees_.length).toBeLessThan(500);
    expect(es.trees_.length).toBe(es.bestIteration_ + 1);
  });

  it('subsampling with a seed is deterministic; a different seed gives a different model', () => {
    const fitWithSeed = (seed: number) =>
      new GradientBoostingClassifier({ nEstimators: 20, subsample: 0.5, seed })
        .fit(train.X, train.y)
        .predictProba(valid.X);
    expect(Array.from(fitWithSeed(1))).toEqual(Array.from(fitWithSeed(1)));
    expect(Array.from(fitWithSeed(1))).not.toEqual(Array.from(fitWithSeed(2)));
  });
});

describe('RandomForestClassifier', () => {
  it('reports an out-of-bag ROC-AUC close to the held-out one', () => {
    const { X, y } = problem(3000, 4);
    const imputed = { ...X, data: X.data.map((v) => (Number.isNaN(v) ? 0 : v)) };
    const train = take(imputed, y, 0, 2000);
    const test = take(imputed, y, 2000, 3000);
    const rf = new RandomForestClassifier({ nEstimators: 40, seed: 1 }).fit(train.X, train.y);
    const held = rocAuc(test.y, rf.predictProba(test.X));
    expect(rf.oobScore_).not.toBeNull();
    expect(Math.abs((rf.oobScore_ ?? 0) - held)).toBeLessThan(0.05);
  });
});

describe('ExtraTreesClassifier', () => {
  it('learns the problem with random thresholds, round-trips through JSON, and skips the OOB score when asked', () => {
    const { X, y } = problem(3000, 5);
    const train = take(X, y, 0, 2000);
    const test = take(X, y, 2000, 3000);
    const et = new ExtraTreesClassifier({ nEstimators: 40, maxDepth: 10, seed: 2 }).fit(train.X, train.y);
    expect(et.kind).toBe('extra_trees');
    expect(et.params.bootstrap).toBe(false);
    const p = et.predictProba(test.X);
    const rf = new RandomForestClassifier({ nEstimators: 40, maxDepth: 10, seed: 2 }).fit(train.X, train.y);
    const aucEt = rocAuc(test.y, p);
    expect(aucEt).toBeGreaterThan(0.85);
    expect(Math.abs(aucEt - rocAuc(test.y, rf.predictProba(test.X)))).toBeLessThan(0.03);
    const back = ExtraTreesClassifier.fromJSON(JSON.parse(JSON.stringify(et.toJSON())));
    expect(back).toBeInstanceOf(ExtraTreesClassifier);
    expect(Array.from(back.predictProba(test.X))).toEqual(Array.from(p));
    expect(et.oobScore_).toBeNull(); // no bootstrap, no out-of-bag rows
    const noOob = new RandomForestClassifier({ nEstimators: 10, oobScore: false, seed: 1 }).fit(
      train.X,
      train.y,
    );
    expect(noOob.oobScore_).toBeNull();
    const withOob = new RandomForestClassifier({ nEstimators: 10, seed: 1 }).fit(train.X, train.y);
    expect(Array.from(noOob.predictProba(test.X))).toEqual(Array.from(withOob.predictProba(test.X)));
  });
});

describe('LogisticRegression', () => {
  it('matches the closed form of a separable-free 1-D problem and rejects NaN input', () => {
    // y = 1 for half the x=1 rows and a quarter of the x=0 rows; unregularized optimum: logit(0.5) - logit(0.25)
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 400; i++) {
      x.push(i < 200 ? 1 : 0);
      y.push(i < 200 ? (i % 2 === 0 ? 1 : 0) : i % 4 === 0 ? 1 : 0);
    }
    const X: Matrix = { nRows: 400, nCols: 1, data: Float64Array.from(x), names: ['x'] };
    const lr = new LogisticRegression({ C: 1e8 }).fit(X, Float64Array.from(y));
    expect(lr.coef_[0]).toBeCloseTo(Math.log(1) - Math.log(1 / 3), 4);
    expect(lr.intercept_).toBeCloseTo(Math.log(1 / 3), 4);
    const strong = new LogisticRegression({ C: 0.001 }).fit(X, Float64Array.from(y));
    expect(Math.abs(strong.coef_[0])).toBeLessThan(Math.abs(lr.coef_[0]) / 2);
    expect(() =>
      new LogisticRegression().fit(
        { ...X, data: Float64Array.from(x, (v, i) => (i === 3 ? Number.NaN : v)) },
        Float64Array.from(y),
      ),
    ).toThrow(/impute first/);
  });
});

describe('FeaturePipeline and Model', () => {
  const specs: ColumnSpec[] = [
    { name: 'n', type: 'number', nullable: true, role: 'feature' },
    { name: 'c', type: 'category', nullable: true, allowed: ['x', 'y', 'z'], role: 'feature' },
  ];
  const frame = new Frame(
    ['n', 'c'],
    [numericColumn([1, 2, null, 4]), categoricalColumn(['x', 'y', null, 'x'], ['x', 'y', 'z'])],
  );

  it('imputes the median, scales, adds a missing indicator and one-hot encodes seen categories', () => {
    const p = new FeaturePipeline({ columns: specs }).fit(frame);
    const m = p.transform(frame);
    expect(m.names).toEqual(['n', 'n=missing', 'c=x', 'c=y']);
    const col = (j: number) => Array.from({ length: 4 }, (_, i) => m.data[i * 4 + j]);
    const n = col(0);
    expect(n.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12); // standardized
    expect(n[2]).toBeCloseTo(n[1], 12); // median of 1, 2, 4 is 2
    expect(col(1)).toEqual([0, 0, 1, 0]);
    expect(col(2)).toEqual([1, 0, 0, 1]);
    expect(col(3)).toEqual([0, 1, 0, 0]);
    // an unseen category (z) and a missing one are all zeros
    const other = new Frame(['n', 'c'], [numericColumn([3]), categoricalColumn(['z'], ['x', 'y', 'z'])]);
    expect(Array.from(p.transform(other).data.slice(2))).toEqual([0, 0]);
    expect(() => new FeaturePipeline({ columns: specs }).transform(frame)).toThrow(/not fitted/);
  });

  it('a churn model round-trips exactly, and bad documents are refused with clear errors', () => {
    const { data, inputs, y } = churnProblem(1500, 9, [
      'tenure',
      'monthly_charges',
      'contract',
      'internet_service',
    ]);
    const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
    const clf = new GradientBoostingClassifier({ nEstimators: 30 }).fit(pipeline.transform(data), y);
    const model = new Model({
      pipeline,
      classifier: clf,
      signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
    });
    const doc = JSON.parse(JSON.stringify(model.toJSON()));
    const back = Model.fromJSON(doc);
    expect(Array.from(back.predictFrame(data).probability)).toEqual(
      Array.from(model.predictFrame(data).probability),
    );
    expect(back.predictFrame(data).label.every((l) => l === 'Yes' || l === 'No')).toBe(true);
    expect(() => Model.fromJSON({ ...doc, format: 'pickle' })).toThrow(/not a Keel model/);
    expect(doc.formatVersion).toBe(1); // no category-set splits: the version every Keel reads
    expect(() => Model.fromJSON({ ...doc, formatVersion: MODEL_FORMAT_VERSION + 1 })).toThrow(
      /newer than this Keel reads/,
    );
    expect(() => Model.fromJSON({ ...doc, classifier: { kind: 'svm', model: {} } })).toThrow(
      /unknown classifier kind "svm"/,
    );
    expect(() => Model.fromJSON({ ...doc, threshold: 'high' })).toThrow(
      /invalid model document at threshold/,
    );
    const broken = JSON.parse(JSON.stringify(doc));
    broken.classifier.model.state.trees[0].left = Buffer.from(Int32Array.from([0, 0, 0]).buffer).toString(
      'base64',
    );
    expect(() => Model.fromJSON(broken)).toThrow(/KEEL_E_MODEL_FORMAT|tree\.left has|invalid children/);
    expect(() => Model.fromJSON(null)).toThrow(/must be a JSON object/);
  });

  it('property: any finite inputs give probabilities in [0, 1]', () => {
    const { X, y } = problem(600, 7);
    const clf = new GradientBoostingClassifier({ nEstimators: 15 }).fit(X, y);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: false, min: -1e6, max: 1e6 }), fc.constant(Number.NaN)), {
          minLength: 4,
          maxLength: 4,
        }),
        (row) => {
          const p = clf.predictProba({ nRows: 1, nCols: 4, data: Float64Array.from(row), names: X.names })[0];
          return p >= 0 && p <= 1;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('GradientBoostingClassifier on two threads', () => {
  it('builds large histograms on a worker thread with the same model as one thread (to rounding), deterministically', () => {
    const { X, y } = problem(60_000, 11);
    const fitWith = (nThreads: number) =>
      new GradientBoostingClassifier({ nEstimators: 8, maxDepth: 5, nThreads }).fit(X, y).predictProba(X);
    const one = fitWith(1);
    const two = fitWith(2);
    let maxDiff = 0;
    for (let i = 0; i < one.length; i++) maxDiff = Math.max(maxDiff, Math.abs(one[i] - two[i]));
    expect(maxDiff).toBeLessThan(1e-9);
    expect(Array.from(fitWith(2))).toEqual(Array.from(two));
  });

  it('computes weighted gradients on both threads as one thread does', () => {
    const { X, y } = problem(60_000, 12);
    const fitWith = (nThreads: number, w: { scalePosWeight?: number; classWeight?: 'balanced' }) =>
      new GradientBoostingClassifier({ nEstimators: 4, maxDepth: 4, nThreads, ...w })
        .fit(X, y)
        .predictProba(X);
    for (const w of [{ scalePosWeight: 3 }, { classWeight: 'balanced' as const }]) {
      const one = fitWith(1, w);
      const two = fitWith(2, w);
      let maxDiff = 0;
      for (let i = 0; i < one.length; i++) maxDiff = Math.max(maxDiff, Math.abs(one[i] - two[i]));
      expect(maxDiff).toBeLessThan(1e-9);
      // the weights change the model: the weighted fits differ from the unweighted one
      expect(Array.from(two)).not.toEqual(Array.from(fitWith(2, {})));
    }
  });
});
