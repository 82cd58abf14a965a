import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import type { Matrix } from '../types.js';
import { applyBins, binned, fitBins, shareBins } from './binning.js';
import { HistogramHelper, sharedArrays } from './parallel.js';
import { TreeBuilder, type TreeParams } from './tree.js';

/** Mostly one-hot columns (most entries on their most frequent bin) plus two numeric ones. */
function oneHotHeavy(n: number, seed: number): { X: Matrix; grad: Float64Array; hess: Float64Array } {
  const rng = new Rng(seed);
  const F = 12;
  const data = new Float64Array(n * F);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const level = rng.int(5);
    for (let k = 0; k < 5; k++) data[i * F + k] = k === level ? 1 : 0;
    for (let k = 5; k < 10; k++) data[i * F + k] = rng.next() < 0.1 ? 1 : 0;
    data[i * F + 10] = rng.normal();
    data[i * F + 11] = rng.next() < 0.05 ? Number.NaN : Math.round(rng.next() * 40);
    const y = rng.next() < 1 / (1 + Math.exp(-(data[i * F + 10] + (level === 2 ? 1 : -0.5)))) ? 1 : 0;
    grad[i] = 0.3 - y;
    hess[i] = 0.21;
  }
  return { X: { nRows: n, nCols: F, data, names: Array.from({ length: F }, (_, k) => `x${k}`) }, grad, hess };
}

const params: TreeParams = {
  maxDepth: 5,
  minChildSamples: 5,
  minChildWeight: 1e-3,
  lambda: 1,
  minSplitGain: 0,
  featureFraction: 1,
};

function grow(X: Matrix, grad: Float64Array, hess: Float64Array, p: TreeParams, dense: boolean) {
  const mapper = fitBins(X, 254);
  const bins = applyBins(X, mapper);
  // giving the builder a column buffer is how the two-thread path runs: dense histograms only
  const b = new TreeBuilder(
    bins,
    X.nCols,
    mapper.edges,
    p,
    dense ? { cols: new Uint8Array(bins.length) } : {},
  );
  return b.grow(
    Int32Array.from({ length: X.nRows }, (_, i) => i),
    grad,
    hess,
    new Rng(3),
  );
}

describe('TreeBuilder', () => {
  it('sparse histograms (most frequent bin from the totals) grow the same tree as dense ones', () => {
    const { X, grad, hess } = oneHotHeavy(3000, 1);
    const sparse = grow(X, grad, hess, params, false);
    const dense = grow(X, grad, hess, params, true);
    expect(Array.from(sparse.feature)).toEqual(Array.from(dense.feature));
    expect(Array.from(sparse.thresholdBin)).toEqual(Array.from(dense.thresholdBin));
    expect(Array.from(sparse.defaultLeft)).toEqual(Array.from(dense.defaultLeft));
    expect(sparse.feature.filter((f) => f >= 0).length).toBeGreaterThan(5);
    for (let i = 0; i < dense.value.length; i++) expect(sparse.value[i]).toBeCloseTo(dense.value[i], 10);
  });

  it('random splits (extra trees) put each split strictly inside the node’s range of values', () => {
    const { X, grad, hess } = oneHotHeavy(2000, 2);
    const t = grow(X, grad, hess, { ...params, featureFraction: 0.5, randomSplits: true }, false);
    const best = grow(X, grad, hess, { ...params, featureFraction: 0.5 }, false);
    const splits = t.feature.filter((f) => f >= 0).length;
    expect(splits).toBeGreaterThan(3);
    // a different tree from the best-split one on the same draws of features
    expect(Array.from(t.thresholdBin)).not.toEqual(Array.from(best.thresholdBin));
    for (let i = 0; i < t.feature.length; i++)
      if (t.feature[i] >= 0) {
        // both children are non-empty: their covers are positive
        expect(t.cover[t.left[i]]).toBeGreaterThan(0);
        expect(t.cover[t.right[i]]).toBeGreaterThan(0);
      }
  });

  it('trees over every row (the root’s bin counts kept from the first) equal trees summing every count', () => {
    // 9,000 rows: the root is summed in halves on two threads, as it is without the kept counts
    const n = 9000;
    const { X } = oneHotHeavy(n, 4);
    const mapper = fitBins(X, 254);
    const bins = applyBins(X, mapper);
    const all = () => Int32Array.from({ length: n }, (_, i) => i);
    const rng = new Rng(8);
    const rounds = Array.from({ length: 3 }, () => ({
      grad: Float64Array.from({ length: n }, () => rng.normal()),
      hess: Float64Array.from({ length: n }, () => 0.05 + rng.next()),
    }));
    const dense = { cols: new Uint8Array(bins.length) };
    const kept = new TreeBuilder(bins, X.nCols, mapper.edges, params, dense);
    const summed = new TreeBuilder(bins, X.nCols, mapper.edges, params, {
      cols: new Uint8Array(bins.length),
    });
    const shared = sharedArrays(n, X.nCols);
    const two = new TreeBuilder(bins, X.nCols, mapper.edges, params, shared);
    const twoSummed = new TreeBuilder(bins, X.nCols, mapper.edges, params, shared);
    const helper = new HistogramHelper(shared, X.nCols, two.histSize, null, 40);
    try {
      for (const { grad, hess } of rounds) {
        const a = summed.grow(all(), grad, hess, new Rng(1));
        expect(kept.grow(all(), grad, hess, new Rng(1), false, true)).toEqual(a);
        expect(a.feature.filter((f) => f >= 0).length).toBeGreaterThan(5);
        // two threads: the same with and without the kept counts
        twoSummed.helper = helper;
        shared.rows.set(all());
        const b = twoSummed.grow(shared.rows, grad, hess, new Rng(1));
        twoSummed.helper = null;
        two.helper = helper;
        shared.rows.set(all());
        expect(two.grow(shared.rows, grad, hess, new Rng(1), false, true)).toEqual(b);
        two.helper = null;
      }
    } finally {
      helper.close();
    }
  });

  it('shared bins are computed once per matrix and equal fresh ones', () => {
    const { X } = oneHotHeavy(500, 3);
    const fresh = binned(X, 254);
    expect(binned(X, 254)).not.toBe(fresh); // not shared: computed again
    shareBins(X);
    const a = binned(X, 254);
    expect(binned(X, 254)).toBe(a);
    expect(Array.from(a.bins)).toEqual(Array.from(fresh.bins));
    expect(binned(X, 16)).not.toBe(a);
  });
});
