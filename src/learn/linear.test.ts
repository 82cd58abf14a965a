import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ridge } from './linear.js';
import { LogisticRegression } from './logistic.js';
import type { Matrix } from './types.js';

/** Made by fixtures/make_linear_fixtures.py with scikit-learn (the version is inside). */
const fx = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'linear.json'), 'utf8')) as {
  sklearn: string;
  X: number[];
  nRows: number;
  nCols: number;
  yRegression: number[];
  yClassification: number[];
  logisticXScale: number;
  cases: {
    ridge: { alpha: number; fitIntercept: boolean; coef: number[]; intercept: number }[];
    logistic: {
      penalty: 'l1' | 'elasticnet';
      l1Ratio: number;
      C: number;
      coef: number[];
      intercept: number;
    }[];
  };
};
const names = Array.from({ length: fx.nCols }, (_, j) => `x${j}`);
const X: Matrix = { data: Float64Array.from(fx.X), nRows: fx.nRows, nCols: fx.nCols, names };
const Xs: Matrix = { ...X, data: X.data.map((v) => v * fx.logisticXScale) };

describe('Ridge (against scikit-learn)', () => {
  for (const c of fx.cases.ridge)
    it(`alpha ${c.alpha}, fitIntercept ${c.fitIntercept}: the same coefficients and intercept`, () => {
      const m = new Ridge({ alpha: c.alpha, fitIntercept: c.fitIntercept }).fit(
        X,
        Float64Array.from(fx.yRegression),
      );
      for (let j = 0; j < fx.nCols; j++) expect(m.coef_[j]).toBeCloseTo(c.coef[j], 9);
      expect(m.intercept_).toBeCloseTo(c.intercept, 9);
    });

  it('predicts, round-trips through JSON exactly, and names bad input', () => {
    const y = Float64Array.from(fx.yRegression);
    const m = new Ridge({ alpha: 1 }).fit(X, y);
    const back = Ridge.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(Array.from(back.predict(X))).toEqual(Array.from(m.predict(X)));
    let sse = 0;
    let sst = 0;
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const p = m.predict(X);
    for (let i = 0; i < y.length; i++) {
      sse += (y[i] - p[i]) ** 2;
      sst += (y[i] - mean) ** 2;
    }
    expect(1 - sse / sst).toBeGreaterThan(0.9);
    expect(() => new Ridge({ alpha: -1 }).fit(X, y)).toThrow(/alpha must be >= 0/);
    const holes = { ...X, data: X.data.map((v, i) => (i === 13 ? Number.NaN : v)) };
    expect(() => new Ridge().fit(holes, y)).toThrow(/row 3; impute first/);
    expect(() => new Ridge().predict(X)).toThrow(/not fitted|fit\(\)/);
  });

  it('solves collinear columns with alpha 0 instead of failing', () => {
    const dup: Matrix = {
      nRows: 4,
      nCols: 2,
      names: ['a', 'b'],
      data: Float64Array.of(1, 1, 2, 2, 3, 3, 4, 4),
    };
    const m = new Ridge({ alpha: 0 }).fit(dup, Float64Array.of(2, 4, 6, 8));
    const p = m.predict(dup);
    for (let i = 0; i < 4; i++) expect(p[i]).toBeCloseTo(2 * (i + 1), 6);
  });
});

describe('LogisticRegression l1 and elasticnet (against scikit-learn saga)', () => {
  for (const c of fx.cases.logistic)
    it(`${c.penalty}${c.penalty === 'elasticnet' ? ` l1Ratio ${c.l1Ratio}` : ''}, C ${c.C}: the same coefficients, exact zeros where sklearn has them`, () => {
      const m = new LogisticRegression({ penalty: c.penalty, l1Ratio: c.l1Ratio, C: c.C, tol: 1e-12 }).fit(
        Xs,
        Float64Array.from(fx.yClassification),
      );
      for (let j = 0; j < fx.nCols; j++) {
        expect(m.coef_[j]).toBeCloseTo(c.coef[j], 4);
        if (c.coef[j] === 0) expect(m.coef_[j]).toBe(0);
      }
      expect(m.intercept_).toBeCloseTo(c.intercept, 4);
    });

  it('old documents without a penalty read as l2; bad penalties are named', () => {
    const y = Float64Array.from(fx.yClassification);
    const m = new LogisticRegression().fit(Xs, y);
    const doc = m.toJSON() as { params: Record<string, unknown> };
    delete doc.params.penalty;
    delete doc.params.l1Ratio;
    const back = LogisticRegression.fromJSON(JSON.parse(JSON.stringify(doc)));
    expect(back.params.penalty).toBe('l2');
    expect(Array.from(back.predictProba(Xs))).toEqual(Array.from(m.predictProba(Xs)));
    expect(() => new LogisticRegression({ penalty: 'l3' as never }).fit(Xs, y)).toThrow(/penalty must be/);
    expect(() => new LogisticRegression({ penalty: 'elasticnet', l1Ratio: 2 }).fit(Xs, y)).toThrow(/l1Ratio/);
  });
});
