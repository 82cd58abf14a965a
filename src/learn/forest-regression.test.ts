import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { RandomForestRegressor } from './forest.js';
import type { Matrix } from './types.js';

function data(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const F = 5;
  const x = new Float64Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) x[i * F + j] = rng.normal();
    if (i % 13 === 0) x[i * F + 4] = Number.NaN; // a noise column with missing values
    y[i] = 3 * Math.sin(x[i * F]) + x[i * F + 1] ** 2 - 2 * (x[i * F + 2] > 0.5 ? 1 : 0) + 0.3 * rng.normal();
  }
  return { X: { data: x, nRows: n, nCols: F, names: ['a', 'b', 'c', 'd', 'e'] }, y };
}

const r2 = (y: Float64Array, p: Float64Array) => {
  const m = y.reduce((a, b) => a + b, 0) / y.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    sse += (y[i] - p[i]) ** 2;
    sst += (y[i] - m) ** 2;
  }
  return 1 - sse / sst;
};

describe('RandomForestRegressor', () => {
  const train = data(3000, 1);
  const test = data(1000, 2);
  const m = new RandomForestRegressor({ nEstimators: 40, seed: 3 }).fit(train.X, train.y);

  it('fits a nonlinear target: held-out R² high, out-of-bag R² an honest estimate of it', () => {
    const testR2 = r2(test.y, m.predict(test.X));
    expect(testR2).toBeGreaterThan(0.85);
    expect(m.oobScore_).not.toBeNull();
    expect(Math.abs((m.oobScore_ as number) - testR2)).toBeLessThan(0.05);
    const imp = m.featureImportance('gain');
    expect(imp.a).toBeGreaterThan(imp.d);
    expect(imp.b).toBeGreaterThan(imp.e);
  });

  it('is deterministic for a seed and round-trips through JSON exactly', () => {
    const again = new RandomForestRegressor({ nEstimators: 40, seed: 3 }).fit(train.X, train.y);
    expect(Array.from(again.predict(test.X))).toEqual(Array.from(m.predict(test.X)));
    const back = RandomForestRegressor.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(Array.from(back.predict(test.X))).toEqual(Array.from(m.predict(test.X)));
    const other = new RandomForestRegressor({ nEstimators: 40, seed: 4 }).fit(train.X, train.y);
    expect(Array.from(other.predict(test.X))).not.toEqual(Array.from(m.predict(test.X)));
  });

  it('names bad targets and refuses to predict before fit', () => {
    const bad = Float64Array.from(train.y);
    bad[7] = Number.NaN;
    expect(() => new RandomForestRegressor().fit(train.X, bad)).toThrow(/row 8/);
    expect(() => new RandomForestRegressor().fit(train.X, train.y.subarray(0, 10))).toThrow(
      /3000 rows but y has 10/,
    );
    expect(() => new RandomForestRegressor().predict(test.X)).toThrow();
  });
});
