import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogisticRegression } from './logistic.js';
import { Model } from './model.js';
import type { Matrix } from './types.js';

/** scikit-learn 1.2 lbfgs fits (made by fixtures/make_multinomial_fixtures.py). */
const fx = JSON.parse(readFileSync(new URL('./fixtures/multinomial.json', import.meta.url), 'utf8'));
const X: Matrix = {
  nRows: fx.nRows,
  nCols: fx.nCols,
  data: Float64Array.from(fx.X),
  names: Array.from({ length: fx.nCols }, (_, j) => `x${j}`),
};
const target = (name: string) => Float64Array.from(fx[name] as number[]);

describe('LogisticRegression multinomial and class weights (against scikit-learn lbfgs)', () => {
  for (const c of fx.cases as {
    name: string;
    target: string;
    C: number;
    fitIntercept: boolean;
    classWeight: 'balanced' | Record<string, number> | null;
    coef: number[];
    intercept: number[];
    proba: number[];
  }[]) {
    it(`${c.name}: the same coefficients, intercepts and probabilities`, () => {
      const m = new LogisticRegression({
        C: c.C,
        fitIntercept: c.fitIntercept,
        classWeight: c.classWeight,
      }).fit(X, target(c.target));
      const K = c.intercept.length === 1 ? 2 : c.intercept.length;
      expect(m.nClasses_).toBe(K);
      const coef = Array.from(m.coef_);
      expect(coef.length).toBe(c.coef.length);
      for (let j = 0; j < coef.length; j++) expect(Math.abs(coef[j] - c.coef[j])).toBeLessThan(1e-6);
      const intercepts = K === 2 ? [m.intercept_] : Array.from(m.intercepts_);
      for (let k = 0; k < intercepts.length; k++)
        expect(Math.abs(intercepts[k] - c.intercept[k])).toBeLessThan(1e-6);
      const five: Matrix = { ...X, nRows: 5, data: X.data.slice(0, 5 * X.nCols) };
      const P = m.predictProbaMatrix(five);
      for (let i = 0; i < c.proba.length; i++) expect(Math.abs(P.data[i] - c.proba[i])).toBeLessThan(1e-6);
    });
  }

  const y = target('y');
  const m = new LogisticRegression({ C: 1 }).fit(X, y);

  it('probabilities lie in [0, 1] and rows sum to 1 for any inputs; predict is the most probable class', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 4, maxLength: 4 }), {
          minLength: 1,
          maxLength: 10,
        }),
        (rows) => {
          const Z: Matrix = { ...X, nRows: rows.length, data: Float64Array.from(rows.flat()) };
          const P = m.predictProba(Z);
          const labels = m.predict(Z);
          for (let i = 0; i < rows.length; i++) {
            const row = Array.from(P.subarray(i * 3, i * 3 + 3));
            for (const v of row) expect(v >= 0 && v <= 1).toBe(true);
            expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
            expect(row[labels[i]]).toBe(Math.max(...row));
          }
        },
      ),
      { numRuns: 50, seed: 5 },
    );
  });

  it('round-trips through JSON exactly; old documents read as unweighted; bad input is named', () => {
    const back = LogisticRegression.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(m.predictProba(X)));
    expect(back.nClasses_).toBe(3);
    const bin = new LogisticRegression().fit(X, target('yBinary'));
    const old = JSON.parse(JSON.stringify(bin.toJSON()));
    delete old.params.classWeight;
    expect(LogisticRegression.fromJSON(old).params.classWeight).toBe(null);
    const broken = JSON.parse(JSON.stringify(m.toJSON()));
    broken.state.coef = broken.state.coef.slice(0, 5);
    expect(() => LogisticRegression.fromJSON(broken)).toThrow(
      /3-class logistic regression needs 3 × 4 coefficients/,
    );
    expect(() => new LogisticRegression({ penalty: 'l1' }).fit(X, y)).toThrow(
      /multinomial\) take penalty l2 or none/,
    );
    expect(() => new LogisticRegression().fit(X, new Float64Array(X.nRows).fill(1))).toThrow(/single class/);
    expect(() => new LogisticRegression({ classWeight: { '7': 1 } }).fit(X, y)).toThrow(
      /classWeight names class "7"/,
    );
    // a Model is binary: a multinomial classifier is refused with a clear error
    expect(
      () =>
        new Model({
          pipeline: null as never,
          classifier: m,
          signature: { inputs: [], target: { name: 't', classes: ['a', 'b'], positive: 'b' } },
        }),
    ).toThrow(/bundles a binary classifier/);
  });

  it('penalty none: the softmax is shift-invariant, so intercepts and coefficients are centred (sum to zero)', () => {
    const none = new LogisticRegression({ penalty: 'none', tol: 1e-10 }).fit(X, y);
    const b = Array.from(none.intercepts_);
    expect(Math.abs(b.reduce((s, v) => s + v, 0))).toBeLessThan(1e-9);
    for (let j = 0; j < 4; j++)
      expect(Math.abs(none.coef_[j] + none.coef_[4 + j] + none.coef_[8 + j])).toBeLessThan(1e-9);
  });
});
