import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { churnProblem } from './churn.testkit.js';
import { treeShap } from './explain/index.js';
import { FeaturePipeline } from './features.js';
import { GradientBoostingClassifier, GradientBoostingRegressor } from './gbdt.js';
import { logLoss, multiclassLogLoss, r2, rocAuc } from './metrics.js';
import { Model } from './model.js';
import { predictTree } from './tree/tree.js';
import type { Matrix } from './types.js';

/** The scikit-learn reference results (made by fixtures/make_gbdt_fixtures.py). */
const fx = JSON.parse(readFileSync(new URL('./fixtures/gbdt.json', import.meta.url), 'utf8'));

function fixtureSet(name: 'regression' | 'multiclass' | 'categorical') {
  const d = fx[name];
  const all = Float64Array.from((d.X as string).split(','), Number);
  const y = Float64Array.from((d.y as string).split(','), Number);
  const F = d.nCols as number;
  const names = Array.from({ length: F }, (_, j) => `x${j}`);
  const part = (from: number, to: number) => ({
    X: { nRows: to - from, nCols: F, data: all.slice(from * F, to * F), names } as Matrix,
    y: y.slice(from, to),
  });
  return {
    train: part(0, fx.nTrain),
    test: part(fx.nTrain, fx.nTrain + fx.nTest),
    sklearn: d.sklearn,
  };
}

/** The settings the fixture's scikit-learn models used. */
const sk = { nEstimators: 100, learningRate: 0.1, lambda: 1, minChildSamples: 20 };

function accuracy(y: Float64Array, P: Matrix): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < P.nCols; k++) if (P.data[i * P.nCols + k] > P.data[i * P.nCols + best]) best = k;
    if (best === y[i]) ok++;
  }
  return ok / y.length;
}

describe('gradient boosting against scikit-learn HistGradientBoosting (fixture)', () => {
  it('regression: held-out R² within 0.02 of HistGradientBoostingRegressor, leaf-wise and depth-wise', () => {
    const { train, test, sklearn } = fixtureSet('regression');
    const leaf = new GradientBoostingRegressor({ ...sk, maxLeaves: 31, maxDepth: 0 }).fit(train.X, train.y);
    const depth = new GradientBoostingRegressor({ ...sk, maxDepth: 6 }).fit(train.X, train.y);
    expect(r2(test.y, leaf.predict(test.X))).toBeGreaterThan(sklearn.leafwise31.r2 - 0.02);
    expect(r2(test.y, depth.predict(test.X))).toBeGreaterThan(sklearn.depth6.r2 - 0.02);
  });

  it('multiclass: accuracy within 0.03 and log loss within 0.05 of HistGradientBoostingClassifier', () => {
    const { train, test, sklearn } = fixtureSet('multiclass');
    for (const [name, params] of [
      ['leafwise31', { maxLeaves: 31, maxDepth: 0 }],
      ['depth4', { maxDepth: 4 }],
    ] as const) {
      const m = new GradientBoostingClassifier({ ...sk, ...params }).fit(train.X, train.y);
      const P = m.predictProbaMatrix(test.X);
      expect(accuracy(test.y, P)).toBeGreaterThan(sklearn[name].accuracy - 0.03);
      expect(multiclassLogLoss(test.y, P)).toBeLessThan(sklearn[name].logLoss + 0.05);
    }
  });

  it('categorical: native splits reach scikit-learn’s log loss and beat the same column split as a number', () => {
    const { train, test, sklearn } = fixtureSet('categorical');
    const params = { ...sk, maxDepth: 3 };
    const native = new GradientBoostingClassifier({ ...params, categoricalFeatures: ['x0'] }).fit(
      train.X,
      train.y,
    );
    const numeric = new GradientBoostingClassifier(params).fit(train.X, train.y);
    const pn = native.predictProba(test.X);
    const pnum = numeric.predictProba(test.X);
    expect(logLoss(test.y, pn)).toBeLessThan(sklearn.native.logLoss + 0.03);
    expect(rocAuc(test.y, pn)).toBeGreaterThan(sklearn.native.rocAuc - 0.01);
    expect(logLoss(test.y, pn)).toBeLessThan(logLoss(test.y, pnum));
    // the trees record left-going category sets, and they round-trip exactly
    expect(native.trees_.some((t) => t.catOffset !== undefined)).toBe(true);
    const back = GradientBoostingClassifier.fromJSON(JSON.parse(JSON.stringify(native.toJSON())));
    expect(Array.from(back.predictProba(test.X))).toEqual(Array.from(pn));
  });
});

/** Small seeded problems of every kind. */
function problem(seed: number, n: number, kind: 'binary' | 'multiclass' | 'regression') {
  const rng = new Rng(seed);
  const F = 4;
  const data = new Float64Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) data[i * F + j] = rng.next() < 0.05 ? Number.NaN : rng.normal();
    const a = Number.isNaN(data[i * F]) ? 0 : data[i * F];
    const b = Number.isNaN(data[i * F + 1]) ? 0 : data[i * F + 1];
    const z = a + Math.sin(2 * b) + 0.5 * rng.normal();
    y[i] =
      kind === 'regression' ? z * 3 : kind === 'binary' ? (z > 0 ? 1 : 0) : z < -0.5 ? 0 : z < 0.7 ? 1 : 2;
  }
  return { X: { nRows: n, nCols: F, data, names: ['a', 'b', 'c', 'd'] } as Matrix, y };
}

type Kind = 'binary' | 'multiclass' | 'squared_error' | 'huber';
function fitKind(kind: Kind, seed: number, params: Record<string, unknown>) {
  const p = problem(seed, 400, kind === 'binary' || kind === 'multiclass' ? kind : 'regression');
  const model =
    kind === 'binary' || kind === 'multiclass'
      ? new GradientBoostingClassifier(params).fit(p.X, p.y)
      : new GradientBoostingRegressor({ ...params, loss: kind }).fit(p.X, p.y);
  return { ...p, model };
}

function trainingLoss(
  kind: Kind,
  m: GradientBoostingClassifier | GradientBoostingRegressor,
  X: Matrix,
  y: Float64Array,
) {
  if (m instanceof GradientBoostingClassifier) return multiclassLogLoss(y, m.predictProbaMatrix(X));
  const pred = m.predict(X);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const r = Math.abs(pred[i] - y[i]);
    s += kind === 'huber' && r > 1 ? r - 0.5 : (r * r) / 2;
  }
  return s;
}

describe('gradient boosting objectives (properties)', () => {
  const kinds: Kind[] = ['binary', 'multiclass', 'squared_error', 'huber'];

  it('training loss does not rise with more trees, for every objective and both growth modes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        fc.integer({ min: 2, max: 12 }),
        (kind, seed, leafwise, more) => {
          const growth = leafwise ? { maxLeaves: 6, maxDepth: 0 } : { maxDepth: 3 };
          const few = fitKind(kind, seed, { ...growth, nEstimators: 3, minChildSamples: 5 });
          const many = fitKind(kind, seed, { ...growth, nEstimators: 3 + more, minChildSamples: 5 });
          // the model with more trees starts with exactly the first one's trees
          expect(many.model.trees_.slice(0, few.model.trees_.length).map((t) => Array.from(t.value))).toEqual(
            few.model.trees_.map((t) => Array.from(t.value)),
          );
          const l0 = trainingLoss(kind, few.model, few.X, few.y);
          const l1 = trainingLoss(kind, many.model, many.X, many.y);
          expect(l1).toBeLessThanOrEqual(l0 + 1e-9);
        },
      ),
      { numRuns: 12, seed: 7 },
    );
  });

  it('probabilities lie in [0, 1] and each row sums to 1, for any inputs (NaN and ±Infinity included)', () => {
    const { model } = fitKind('multiclass', 3, { nEstimators: 15, maxDepth: 3 });
    const bin = fitKind('binary', 3, { nEstimators: 15, maxDepth: 3 }).model;
    const value = fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 20 }),
        (rows) => {
          const X: Matrix = {
            nRows: rows.length,
            nCols: 4,
            data: Float64Array.from(rows.flat()),
            names: ['a', 'b', 'c', 'd'],
          };
          for (const m of [model, bin] as GradientBoostingClassifier[]) {
            const P = m.predictProbaMatrix(X);
            expect(P.nCols).toBe(m === model ? 3 : 2);
            for (let i = 0; i < X.nRows; i++) {
              let s = 0;
              for (let k = 0; k < P.nCols; k++) {
                const v = P.data[i * P.nCols + k];
                expect(v).toBeGreaterThanOrEqual(0);
                expect(v).toBeLessThanOrEqual(1);
                s += v;
              }
              expect(s).toBeCloseTo(1, 12);
            }
          }
        },
      ),
      { numRuns: 50, seed: 3 },
    );
  });

  it('save and load give bit-identical predictions; a fixed seed gives an identical model', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        (kind, seed, leafwise) => {
          const params = {
            nEstimators: 8,
            subsample: 0.8,
            colsampleBytree: 0.75,
            seed,
            ...(leafwise ? { maxLeaves: 7 } : { maxDepth: 3 }),
          };
          const a = fitKind(kind, seed, params);
          const b = fitKind(kind, seed, params);
          expect(JSON.stringify(b.model.toJSON())).toBe(JSON.stringify(a.model.toJSON()));
          const doc = JSON.parse(JSON.stringify(a.model.toJSON()));
          const back =
            a.model instanceof GradientBoostingClassifier
              ? GradientBoostingClassifier.fromJSON(doc)
              : GradientBoostingRegressor.fromJSON(doc);
          const out = (m: typeof back) =>
            m instanceof GradientBoostingClassifier ? m.predictProba(a.X) : m.predict(a.X);
          expect(Array.from(out(back))).toEqual(Array.from(out(a.model)));
          expect(JSON.stringify(back.toJSON())).toBe(JSON.stringify(a.model.toJSON()));
        },
      ),
      { numRuns: 10, seed: 11 },
    );
  });
});

describe('GradientBoostingRegressor', () => {
  it('fits, starts from the mean (squared error) or the median (Huber), and Huber resists outliers', () => {
    const { X, y } = problem(5, 600, 'regression');
    const noisy = Float64Array.from(y, (v, i) => (i % 25 === 0 ? v + 200 : v));
    const l2 = new GradientBoostingRegressor({ nEstimators: 60, maxDepth: 3 }).fit(X, noisy);
    const huber = new GradientBoostingRegressor({
      nEstimators: 60,
      maxDepth: 3,
      loss: 'huber',
      huberDelta: 1,
    }).fit(X, noisy);
    expect(l2.baseScore_).toBeCloseTo(noisy.reduce((a, b) => a + b, 0) / noisy.length, 10);
    const clean = problem(6, 600, 'regression');
    expect(r2(clean.y, huber.predict(clean.X))).toBeGreaterThan(r2(clean.y, l2.predict(clean.X)));
    expect(r2(clean.y, huber.predict(clean.X))).toBeGreaterThan(0.6);
    expect(huber.featureImportance('split').a).toBeGreaterThan(0);
  });

  it('a constant and an all-missing column are never split on; a constant target gives a constant model', () => {
    const { X, y } = problem(11, 400, 'regression');
    const data = new Float64Array(400 * 6);
    for (let i = 0; i < 400; i++) {
      for (let j = 0; j < 4; j++) data[i * 6 + j] = X.data[i * 4 + j];
      data[i * 6 + 4] = -3;
      data[i * 6 + 5] = Number.NaN;
    }
    const wide: Matrix = { nRows: 400, nCols: 6, data, names: ['a', 'b', 'c', 'd', 'const', 'gone'] };
    for (const growth of [{ maxDepth: 3 }, { maxLeaves: 8, maxDepth: 0 }]) {
      const m = new GradientBoostingRegressor({ nEstimators: 10, ...growth }).fit(wide, y);
      const imp = m.featureImportance('split');
      expect(imp.const).toBe(0);
      expect(imp.gone).toBe(0);
      expect(imp.a).toBeGreaterThan(0);
    }
    const flat = new GradientBoostingRegressor({ nEstimators: 5 }).fit(wide, new Float64Array(400).fill(2.5));
    for (const v of flat.predict(wide)) expect(v).toBe(2.5);
  });

  it('early stopping on an evaluation set keeps the best round', () => {
    const train = problem(7, 500, 'regression');
    const val = problem(8, 300, 'regression');
    const m = new GradientBoostingRegressor({
      nEstimators: 400,
      learningRate: 0.3,
      maxDepth: 4,
      earlyStoppingRounds: 10,
    }).fit(train.X, train.y, { eval: val });
    expect(m.trees_.length).toBe(m.bestIteration_ + 1);
    expect(m.trees_.length).toBeLessThan(400);
  });

  it('names bad input: a non-finite target, a bad loss, a wrong width', () => {
    const { X, y } = problem(9, 100, 'regression');
    const bad = Float64Array.from(y);
    bad[4] = Number.POSITIVE_INFINITY;
    expect(() => new GradientBoostingRegressor().fit(X, bad)).toThrow(
      /y must be finite, found Infinity at row 5/,
    );
    expect(() => new GradientBoostingRegressor({ loss: 'absolute' as 'huber' }).fit(X, y)).toThrow(
      /loss must be/,
    );
    const m = new GradientBoostingRegressor({ nEstimators: 3 }).fit(X, y);
    expect(() => m.predict({ ...X, nCols: 3, data: X.data.slice(0, 300) })).toThrow(
      /fitted on 4 features, got 3/,
    );
    expect(() => new GradientBoostingRegressor().predict(X)).toThrow(/not fitted/);
  });

  it('TreeSHAP explains the prediction: base value + contributions = predict', () => {
    const { X, y } = problem(10, 300, 'regression');
    const m = new GradientBoostingRegressor({ nEstimators: 10, maxLeaves: 8 }).fit(X, y);
    const s = treeShap(m, X);
    expect(s.output).toBe('value');
    const pred = m.predict(X);
    for (let i = 0; i < 20; i++) {
      let sum = s.baseValue;
      for (let j = 0; j < 4; j++) sum += s.values[i * 4 + j];
      expect(sum).toBeCloseTo(pred[i], 9);
    }
  });
});

describe('GradientBoostingClassifier multiclass', () => {
  const train = problem(21, 900, 'multiclass');
  const m = new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 3 }).fit(train.X, train.y);

  it('grows one tree per class per round; predict is the most probable class; decisionFunction is n×K', () => {
    expect(m.nClasses_).toBe(3);
    expect(m.trees_.length).toBe(90);
    expect(m.baseScores_.length).toBe(3);
    const P = m.predictProbaMatrix(train.X);
    const labels = m.predict(train.X);
    expect(accuracy(train.y, P)).toBeGreaterThan(0.7);
    for (let i = 0; i < 10; i++)
      expect(labels[i]).toBe(
        P.data.slice(i * 3, i * 3 + 3).indexOf(Math.max(...P.data.slice(i * 3, i * 3 + 3))),
      );
    expect(m.decisionFunction(train.X).length).toBe(900 * 3);
    expect(m.predictProba(train.X).length).toBe(900 * 3);
  });

  it('early stopping on an evaluation set keeps whole rounds (K trees each); bad eval labels are named', () => {
    const val = problem(23, 400, 'multiclass');
    const es = new GradientBoostingClassifier({
      nEstimators: 300,
      learningRate: 0.3,
      maxDepth: 4,
      earlyStoppingRounds: 5,
    }).fit(train.X, train.y, { eval: val });
    expect(es.trees_.length).toBe(3 * (es.bestIteration_ + 1));
    expect(es.bestIteration_).toBeLessThan(290);
    const badY = Float64Array.from(val.y);
    badY[3] = 7;
    expect(() =>
      new GradientBoostingClassifier({ nEstimators: 2 }).fit(train.X, train.y, {
        eval: { X: val.X, y: badY },
      }),
    ).toThrow(/eval set: y has 7 at row 4, not a training class/);
  });

  it('TreeSHAP explains one class at a time (its margin) and says so otherwise', () => {
    const margins = m.decisionFunction(train.X);
    const s = treeShap(m, train.X, 2);
    for (let i = 0; i < 10; i++) {
      let sum = s.baseValue;
      for (let j = 0; j < 4; j++) sum += s.values[i * 4 + j];
      expect(sum).toBeCloseTo(margins[i * 3 + 2], 9);
    }
    expect(() => treeShap(m, train.X)).toThrow(/one class at a time: pass a class index in 0..2/);
  });

  it('class weights: balanced raises the rare class’s recall; a map {1: r} is exactly scalePosWeight r', () => {
    const rng = new Rng(4);
    const y = Float64Array.from(train.y, (v) => (v === 2 && rng.next() < 0.8 ? 1 : v)); // class 2 made rare
    const recall2 = (mm: GradientBoostingClassifier) => {
      const pred = mm.predict(train.X);
      let tp = 0;
      let p = 0;
      for (let i = 0; i < y.length; i++)
        if (y[i] === 2) {
          p++;
          if (pred[i] === 2) tp++;
        }
      return tp / p;
    };
    const params = { nEstimators: 20, maxDepth: 3 };
    const plain = new GradientBoostingClassifier(params).fit(train.X, y);
    const balanced = new GradientBoostingClassifier({ ...params, classWeight: 'balanced' }).fit(train.X, y);
    expect(recall2(balanced)).toBeGreaterThan(recall2(plain) + 0.1);
    const bin = problem(22, 600, 'binary');
    const a = new GradientBoostingClassifier({ ...params, scalePosWeight: 3 }).fit(bin.X, bin.y);
    const b = new GradientBoostingClassifier({ ...params, classWeight: { '1': 3 } }).fit(bin.X, bin.y);
    expect(Array.from(b.predictProba(bin.X))).toEqual(Array.from(a.predictProba(bin.X)));
    expect(() => new GradientBoostingClassifier({ classWeight: { '5': 2 } }).fit(bin.X, bin.y)).toThrow(
      /classWeight names class "5", the target has 0..1/,
    );
    expect(() => new GradientBoostingClassifier({ scalePosWeight: 2 }).fit(train.X, train.y)).toThrow(
      /scalePosWeight is for two classes/,
    );
  });

  it('edge cases: a single class, a missing class label, non-integer labels, constant and all-missing columns', () => {
    const X = train.X;
    expect(() => new GradientBoostingClassifier().fit(X, new Float64Array(900).fill(2))).toThrow(
      /single class/,
    );
    expect(() =>
      new GradientBoostingClassifier().fit(
        X,
        Float64Array.from(train.y, (v) => (v === 1 ? 3 : v)),
      ),
    ).toThrow(/no row has class 1/);
    expect(() =>
      new GradientBoostingClassifier().fit(
        X,
        Float64Array.from(train.y, (v) => v + 0.5),
      ),
    ).toThrow(/class labels 0, 1, 2/);
    const F = 6;
    const data = new Float64Array(900 * F);
    for (let i = 0; i < 900; i++) {
      for (let j = 0; j < 4; j++) data[i * F + j] = X.data[i * 4 + j];
      data[i * F + 4] = 7; // constant
      data[i * F + 5] = Number.NaN; // all missing
    }
    const wide: Matrix = { nRows: 900, nCols: F, data, names: ['a', 'b', 'c', 'd', 'const', 'gone'] };
    const w = new GradientBoostingClassifier({ nEstimators: 10, maxLeaves: 8 }).fit(wide, train.y);
    const imp = w.featureImportance('split');
    expect(imp.const).toBe(0);
    expect(imp.gone).toBe(0);
    expect(imp.a).toBeGreaterThan(0);
  });
});

describe('leaf-wise growth', () => {
  it('keeps at most maxLeaves leaves, respects a maxDepth bound, and with 2^d leaves and depth d equals depth-wise', () => {
    const { X, y } = problem(31, 1500, 'binary');
    const m = new GradientBoostingClassifier({
      nEstimators: 10,
      maxLeaves: 5,
      maxDepth: 0,
      minChildSamples: 5,
    }).fit(X, y);
    for (const t of m.trees_) {
      const leaves = Array.from(t.feature).filter((f) => f === -1).length;
      expect(leaves).toBeLessThanOrEqual(5);
    }
    // unbounded depth lets best-first growth go deeper than a balanced tree with as many leaves
    const deep = new GradientBoostingClassifier({
      nEstimators: 5,
      maxLeaves: 12,
      maxDepth: 0,
      minChildSamples: 2,
    }).fit(X, y);
    const depthOf = (t: { feature: Int32Array; left: Int32Array; right: Int32Array }, n = 0): number =>
      t.feature[n] === -1 ? 0 : 1 + Math.max(depthOf(t, t.left[n]), depthOf(t, t.right[n]));
    expect(Math.max(...deep.trees_.map((t) => depthOf(t)))).toBeGreaterThan(4);
    const bounded = new GradientBoostingClassifier({ nEstimators: 5, maxLeaves: 12, maxDepth: 2 }).fit(X, y);
    for (const t of bounded.trees_) expect(depthOf(t)).toBeLessThanOrEqual(2);
    const a = new GradientBoostingClassifier({ nEstimators: 10, maxLeaves: 8, maxDepth: 3 }).fit(X, y);
    const b = new GradientBoostingClassifier({ nEstimators: 10, maxDepth: 3 }).fit(X, y);
    expect(Array.from(a.predictProba(X))).toEqual(Array.from(b.predictProba(X)));
    expect(() => new GradientBoostingClassifier({ maxLeaves: 1 }).fit(X, y)).toThrow(/maxLeaves must be 0/);
  });
});

describe('native categorical splits', () => {
  /** Column 0: a category code 0..9 whose effect ignores the code order; column 1 numeric. */
  function cats(seed: number, n: number) {
    const rng = new Rng(seed);
    const effect = [2, -2, 1.5, -1, 0.5, -1.5, 1, -0.5, 2.5, -2.5];
    const data = new Float64Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(10);
      data[i * 2] = rng.next() < 0.05 ? Number.NaN : c;
      data[i * 2 + 1] = rng.normal();
      y[i] = effect[c] + data[i * 2 + 1] + 0.5 * rng.normal() > 0 ? 1 : 0;
    }
    return { X: { nRows: n, nCols: 2, data, names: ['color', 'v'] } as Matrix, y };
  }
  const train = cats(1, 2000);
  const params = { nEstimators: 20, maxDepth: 2, categoricalFeatures: ['color'] };
  const m = new GradientBoostingClassifier(params).fit(train.X, train.y);

  it('splits a category set at once: one depth-1 split separates the positive-effect categories', () => {
    const stump = new GradientBoostingClassifier({ ...params, nEstimators: 1, maxDepth: 1 }).fit(
      train.X,
      train.y,
    );
    const t = stump.trees_[0];
    expect(t.feature[0]).toBe(0);
    const left = Array.from(t.catValues!.subarray(t.catOffset![0], t.catOffset![1])).sort((a, b) => a - b);
    // the left set is one side of the effect order: all positive-effect codes, or all negative ones
    const positive = [0, 2, 4, 6, 8];
    const negative = [1, 3, 5, 7, 9];
    expect([positive.join(), negative.join()]).toContain(left.join());
  });

  it('scores category-set trees from flat arrays with the same sums as walking each tree', () => {
    const test = cats(2, 500);
    const margins = m.decisionFunction(test.X);
    for (let i = 0; i < test.X.nRows; i++) {
      let sum = m.baseScore_;
      for (const t of m.trees_) sum += predictTree(t, test.X.data, i * 2);
      expect(margins[i]).toBe(sum);
    }
  });

  it('unseen categories go right, NaN and negative codes follow the missing direction, non-integers are refused', () => {
    const stump = new GradientBoostingClassifier({ ...params, nEstimators: 1, maxDepth: 1 }).fit(
      train.X,
      train.y,
    );
    const t = stump.trees_[0];
    const row = (v: number): Matrix => ({
      nRows: 1,
      nCols: 2,
      data: Float64Array.of(v, 0),
      names: ['color', 'v'],
    });
    const walk = (v: number) => stump.decisionFunction(row(v))[0] - stump.baseScore_;
    const missing = t.defaultLeft[0] ? t.value[t.left[0]] : t.value[t.right[0]];
    expect(walk(42)).toBe(t.value[t.right[0]]); // never seen in training
    expect(walk(Number.NaN)).toBe(missing);
    expect(walk(-1)).toBe(missing);
    const leftCode = t.catValues![t.catOffset![0]];
    expect(walk(leftCode)).toBe(t.value[t.left[0]]);
    const all = m.predictProba({
      nRows: 3,
      nCols: 2,
      data: Float64Array.of(42, 0, -1, 0, Number.NaN, 0),
      names: ['color', 'v'],
    });
    for (const p of all) expect(p).toBeGreaterThan(0);
    expect(all[1]).toBe(all[2]); // -1 and NaN are both missing
    const bad = { ...train.X, data: Float64Array.from(train.X.data) };
    bad.data[2 * 7] = 2.5;
    expect(() => new GradientBoostingClassifier(params).fit(bad, train.y)).toThrow(
      /categorical feature "color" has the non-integer value 2.5 at row 8/,
    );
    expect(() =>
      new GradientBoostingClassifier({ categoricalFeatures: ['nope'] }).fit(train.X, train.y),
    ).toThrow(/categorical feature "nope" is not a column/);
  });

  it('a column above maxCatCardinality is split as a number; TreeSHAP follows category sets; leaf-wise works too', () => {
    const capped = new GradientBoostingClassifier({ ...params, maxCatCardinality: 5 }).fit(train.X, train.y);
    expect(capped.trees_.every((t) => t.catOffset === undefined)).toBe(true);
    const s = treeShap(m, train.X);
    const margin = m.decisionFunction(train.X);
    for (let i = 0; i < 20; i++)
      expect(s.baseValue + s.values[2 * i] + s.values[2 * i + 1]).toBeCloseTo(margin[i], 9);
    const lw = new GradientBoostingClassifier({ ...params, maxLeaves: 6, maxDepth: 0 }).fit(train.X, train.y);
    const test = cats(2, 1000);
    expect(rocAuc(test.y, lw.predictProba(test.X))).toBeGreaterThan(0.85);
    expect(rocAuc(test.y, m.predictProba(test.X))).toBeGreaterThan(0.85);
  });
});

describe('categorical columns from a FeaturePipeline in a Model', () => {
  it('ordinal encoding marks the category features; the bundle predicts, explains and round-trips exactly', () => {
    const { data, inputs, y } = churnProblem(1500, 9, [
      'tenure',
      'monthly_charges',
      'contract',
      'internet_service',
    ]);
    const pipeline = new FeaturePipeline({ columns: inputs, encoding: 'ordinal' }).fit(data);
    expect(pipeline.categoricalFeatures()).toEqual(['contract', 'internet_service']);
    const clf = new GradientBoostingClassifier({
      nEstimators: 30,
      maxLeaves: 8,
      categoricalFeatures: pipeline.categoricalFeatures(),
    }).fit(pipeline.transform(data), y);
    expect(clf.trees_.some((t) => t.catOffset !== undefined)).toBe(true);
    const model = new Model({
      pipeline,
      classifier: clf,
      signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
    });
    const doc = JSON.parse(JSON.stringify(model.toJSON()));
    // category-set splits need format version 2: a Keel that reads only version 1 refuses the file
    expect(doc.formatVersion).toBe(2);
    const back = Model.fromJSON(doc);
    expect(Array.from(back.predictFrame(data).probability)).toEqual(
      Array.from(model.predictFrame(data).probability),
    );
    const e = back.explain(data.take(Int32Array.from({ length: 20 }, (_, i) => i)));
    const margin = clf.decisionFunction(
      pipeline.transform(data.take(Int32Array.from({ length: 20 }, (_, i) => i))),
    );
    for (let i = 0; i < 20; i++) {
      let s = e.baseValue;
      for (let j = 0; j < 4; j++) s += e.contributions[i * 4 + j];
      expect(s).toBeCloseTo(margin[i], 9);
    }
    // a multiclass classifier is not a binary Model's classifier
    const three = Float64Array.from(y, (v, i) => (i % 7 === 0 ? 2 : v));
    const multi = new GradientBoostingClassifier({ nEstimators: 3 }).fit(pipeline.transform(data), three);
    expect(
      () =>
        new Model({
          pipeline,
          classifier: multi,
          signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
        }),
    ).toThrow(/bundles a binary classifier/);
  });
});

describe('gradient boosting documents and inputs', () => {
  it('documents written before maxLeaves, classWeight and categorical splits load and predict the same', () => {
    const { X, y } = problem(41, 500, 'binary');
    const m = new GradientBoostingClassifier({ nEstimators: 10, maxDepth: 3 }).fit(X, y);
    const old = JSON.parse(JSON.stringify(m.toJSON()));
    for (const k of [
      'maxLeaves',
      'classWeight',
      'categoricalFeatures',
      'maxCatCardinality',
      'catSmooth',
      'catL2',
      'maxCatThreshold',
      'minDataPerGroup',
      'maxCatToOnehot',
    ])
      delete old.params[k];
    const back = GradientBoostingClassifier.fromJSON(old);
    expect(back.params.maxLeaves).toBe(0);
    expect(back.params.classWeight).toBe(null);
    expect(back.params.minDataPerGroup).toBe(100);
    // a model that uses none of them writes the document it always did; one that does writes them
    expect(Object.keys((m.toJSON() as { params: object }).params)).not.toContain('maxLeaves');
    const lw = new GradientBoostingClassifier({ nEstimators: 2, maxLeaves: 4 }).fit(X, y);
    expect((lw.toJSON() as { params: { maxLeaves: number } }).params.maxLeaves).toBe(4);
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(m.predictProba(X)));
  });

  it('refuses corrupted category sets and a multiclass document whose trees are not whole rounds', () => {
    const data = new Float64Array(600 * 2);
    const y = new Float64Array(600);
    const rng = new Rng(2);
    for (let i = 0; i < 600; i++) {
      data[2 * i] = rng.int(6);
      data[2 * i + 1] = rng.normal();
      y[i] = [1, 0, 1, 0, 0, 1][data[2 * i]] ^ (rng.next() < 0.1 ? 1 : 0);
    }
    const X: Matrix = { nRows: 600, nCols: 2, data, names: ['c', 'v'] };
    const m = new GradientBoostingClassifier({ nEstimators: 3, maxDepth: 2, categoricalFeatures: ['c'] }).fit(
      X,
      y,
    );
    const doc = JSON.parse(JSON.stringify(m.toJSON()));
    const t = doc.state.trees.findIndex((tt: { catOffset?: string }) => tt.catOffset);
    expect(t).toBeGreaterThanOrEqual(0);
    const bad = JSON.parse(JSON.stringify(doc));
    bad.state.trees[t].catOffset = Buffer.from(Int32Array.of(0, 1).buffer).toString('base64');
    expect(() => GradientBoostingClassifier.fromJSON(bad)).toThrow(/catOffset does not fit/);
    const half = JSON.parse(JSON.stringify(doc));
    delete half.state.trees[t].catValues;
    expect(() => GradientBoostingClassifier.fromJSON(half)).toThrow(/come together/);
    const multi = new GradientBoostingClassifier({ nEstimators: 2, maxDepth: 2 }).fit(
      X,
      Float64Array.from(
        data.filter((_, i) => i % 2 === 0),
        (c) => c % 3,
      ),
    );
    const mdoc = JSON.parse(JSON.stringify(multi.toJSON()));
    mdoc.state.trees.pop();
    expect(() => GradientBoostingClassifier.fromJSON(mdoc)).toThrow(/not a whole number of rounds/);
  });

  it('±Infinity are ordinary values (the extreme bins), NaN is missing: fitting and predicting stay finite', () => {
    const { X, y } = problem(43, 600, 'regression');
    const data = Float64Array.from(X.data);
    for (let i = 0; i < 600; i += 10)
      data[i * 4] = i % 20 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    const Xi = { ...X, data };
    const m = new GradientBoostingRegressor({ nEstimators: 20, maxDepth: 3 }).fit(Xi, y);
    for (const v of m.predict(Xi)) expect(Number.isFinite(v)).toBe(true);
    const probe = (a: number) => m.predict({ ...X, nRows: 1, data: Float64Array.of(a, 0, 0, 0) })[0];
    expect(probe(Number.POSITIVE_INFINITY)).toBe(probe(1e300));
    expect(probe(Number.NEGATIVE_INFINITY)).toBe(probe(-1e300));
    expect(Number.isFinite(probe(Number.NaN))).toBe(true);
  });
});

describe('categorical split search details (LightGBM)', () => {
  it('few categories split one against the rest; rare categories (below catSmooth rows) are left out and go right', () => {
    const rng = new Rng(12);
    const n = 3000;
    const data = new Float64Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // codes 0..2 common, code 3 only in a handful of rows
      const c = i < 5 ? 3 : rng.int(3);
      data[2 * i] = c;
      data[2 * i + 1] = rng.normal();
      y[i] = (c === 1 ? 1.5 : c === 3 ? 3 : -0.5) + 0.3 * rng.normal() > 0 ? 1 : 0;
    }
    const X: Matrix = { nRows: n, nCols: 2, data, names: ['c', 'v'] };
    const stump = new GradientBoostingClassifier({
      nEstimators: 1,
      maxDepth: 1,
      categoricalFeatures: ['c'],
      maxCatToOnehot: 4,
    }).fit(X, y);
    const t = stump.trees_[0];
    expect(Array.from(t.catValues!.subarray(t.catOffset![0], t.catOffset![1]))).toEqual([1]);
    // sorted search with catSmooth 10: code 3 (5 rows) is never in a left set
    const sorted = new GradientBoostingClassifier({
      nEstimators: 5,
      maxDepth: 2,
      categoricalFeatures: ['c'],
      maxCatToOnehot: 0,
      minDataPerGroup: 10,
    }).fit(X, y);
    for (const tt of sorted.trees_) if (tt.catValues) expect(Array.from(tt.catValues)).not.toContain(3);
  });
});
