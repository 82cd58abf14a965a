import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { applyBins, binValue, fitBins, MISSING_BIN } from './binning.js';

describe('applyBins', () => {
  it('gives every value the bin binValue gives it (grid lookup or binary search alike)', () => {
    const rng = new Rng(3);
    const n = 20_000;
    const F = 7;
    const data = new Float64Array(n * F);
    for (let i = 0; i < n; i++) {
      data[i * F] = rng.normal(); // dense in the middle: grid lookup
      data[i * F + 1] = Math.exp(3 * rng.normal()); // heavy tail: binary search
      data[i * F + 2] = rng.int(7); // few distinct values
      data[i * F + 3] = rng.next() < 0.1 ? Number.NaN : Math.round(rng.normal() * 1000) / 1000;
      data[i * F + 4] = rng.next() < 0.001 ? 1e12 : rng.next(); // one far outlier
      data[i * F + 5] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 1][rng.int(4)];
      data[i * F + 6] = 5; // constant
    }
    const X = { nRows: n, nCols: F, data, names: [] };
    const mapper = fitBins(X, 254);
    const bins = applyBins(X, mapper);
    let mismatches = 0;
    for (let i = 0; i < n * F; i++) if (bins[i] !== binValue(mapper.edges[i % F], data[i])) mismatches++;
    expect(mismatches).toBe(0);
    // values at, just below and just above every edge
    for (const e of mapper.edges) {
      const vals: number[] = [Number.NaN];
      for (const x of e) vals.push(x, x - 1e-9, x + 1e-9, x * (1 - 1e-15), x * (1 + 1e-15));
      const b = applyBins(
        { nRows: vals.length, nCols: 1, data: Float64Array.from(vals), names: [] },
        { edges: [e] },
      );
      expect(Array.from(b)).toEqual(vals.map((v) => binValue(e, v)));
      expect(b[0]).toBe(MISSING_BIN);
    }
  });
});
