import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import type { Matrix } from '../types.js';
import { applyBins, fitBins, MISSING_BIN } from './binning.js';
import { HistogramHelper, sharedArrays } from './parallel.js';
import {
  CFG_CAT_L2,
  CFG_CAT_SMOOTH,
  CFG_LAMBDA,
  CFG_MAX_CAT,
  CFG_MIN_CHILD,
  CFG_MIN_GAIN,
  CFG_MIN_WEIGHT,
  CFG_ONEHOT,
  CFG_PER_GROUP,
  CFG_SIZE,
  searchSplit,
  subtractFeatures,
} from './split-kernel.mjs';
import { type Tree, TreeBuilder, type TreeParams } from './tree.js';

const NB = 256;

/** A histogram of F features over n random rows: numeric features with nb[f] bins, some categorical, missing values. */
function randomHist(rng: Rng, F: number, nb: Int32Array, n: number) {
  const hist = new Float64Array(F * NB * 3);
  let G = 0;
  let H = 0;
  const g = Float64Array.from({ length: n }, () => rng.normal());
  const h = Float64Array.from({ length: n }, () => 0.05 + rng.next() * 0.2);
  for (let i = 0; i < n; i++) {
    G += g[i];
    H += h[i];
  }
  for (let f = 0; f < F; f++)
    for (let i = 0; i < n; i++) {
      const b = rng.next() < 0.07 ? MISSING_BIN : rng.int(nb[f]);
      const k = (f * NB + b) * 3;
      hist[k] += g[i];
      hist[k + 1] += h[i];
      hist[k + 2] += 1;
    }
  return { hist, G, H };
}

function config(minChild: number): Float64Array {
  const cfg = new Float64Array(CFG_SIZE);
  cfg[CFG_LAMBDA] = 1;
  cfg[CFG_MIN_CHILD] = minChild;
  cfg[CFG_MIN_WEIGHT] = 1e-3;
  cfg[CFG_MIN_GAIN] = 0;
  cfg[CFG_CAT_SMOOTH] = 10;
  cfg[CFG_CAT_L2] = 10;
  cfg[CFG_MAX_CAT] = 32;
  cfg[CFG_PER_GROUP] = 20;
  cfg[CFG_ONEHOT] = 4;
  return cfg;
}

describe('split-kernel', () => {
  it('gives the whole scan’s split when a node’s features are searched in ranges and merged in order', () => {
    const rng = new Rng(5);
    const F = 17;
    const nb = Int32Array.from({ length: F }, (_, f) => (f % 5 === 0 ? 3 + f : 40 + 13 * f));
    const isCat = Uint8Array.from({ length: F }, (_, f) => (f % 5 === 0 ? 1 : 0));
    const cfg = config(5);
    let categoricalWins = 0;
    for (let trial = 0; trial < 40; trial++) {
      const { hist, G, H } = randomHist(rng, F, nb, 300 + rng.int(2000));
      const order = Int32Array.from({ length: F }, (_, i) => i);
      for (let i = F - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const nNode = hist.reduce((c, _, k) => (k % 3 === 2 && k < 3 * NB ? c + hist[k] : c), 0);
      const whole = new Float64Array(7);
      const wholeMask = new Uint8Array(NB);
      searchSplit(hist, order, 0, F, nb, isCat, cfg, G, H, nNode, null, null, whole, 0, wholeMask);
      expect(whole[1]).toBeGreaterThanOrEqual(0);
      if (whole[6] === 1) categoricalWins++;
      for (const chunks of [2, 3, 5, F]) {
        const out = new Float64Array(7 * chunks);
        const masks = new Uint8Array(NB * chunks);
        for (let c = 0; c < chunks; c++)
          searchSplit(
            hist,
            order,
            Math.floor((c * F) / chunks),
            Math.floor(((c + 1) * F) / chunks),
            nb,
            isCat,
            cfg,
            G,
            H,
            nNode,
            null,
            null,
            out,
            7 * c,
            masks.subarray(c * NB, (c + 1) * NB),
          );
        let best = -1;
        for (let c = 0; c < chunks; c++)
          if (out[7 * c + 1] >= 0 && (best < 0 || out[7 * c] > out[7 * best])) best = c;
        expect(Array.from(out.subarray(7 * best, 7 * best + 7))).toEqual(Array.from(whole));
        if (whole[6] === 1)
          expect(Array.from(masks.subarray(best * NB, (best + 1) * NB))).toEqual(Array.from(wholeMask));
      }
    }
    expect(categoricalWins).toBeGreaterThan(0);
    expect(categoricalWins).toBeLessThan(40);
  });

  it('subtracts a histogram over the value and missing bins of the given features only', () => {
    const nb = Int32Array.from([3, 2]);
    const parent = new Float64Array(2 * NB * 3).fill(5);
    const child = new Float64Array(2 * NB * 3).fill(2);
    subtractFeatures(parent, child, Int32Array.from([1, 0]), 0, 1, nb);
    const f1 = NB * 3;
    expect(Array.from(parent.subarray(f1, f1 + 7))).toEqual([3, 3, 3, 3, 3, 3, 5]);
    expect(Array.from(parent.subarray(f1 + MISSING_BIN * 3, f1 + MISSING_BIN * 3 + 3))).toEqual([3, 3, 3]);
    expect(parent[0]).toBe(5); // feature 0 not in the range
  });
});

/** Numeric columns with missing values and two categorical ones (codes), as a GBDT sees them. */
function mixed(n: number, seed: number): { X: Matrix; grad: Float64Array; hess: Float64Array } {
  const rng = new Rng(seed);
  const F = 9;
  const data = new Float64Array(n * F);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let f = 0; f < 7; f++) {
      const v = rng.normal();
      data[i * F + f] = rng.next() < 0.06 ? Number.NaN : Math.round(v * 100) / 100;
      z += (f % 2 ? 0.7 : -0.5) * v;
    }
    const c1 = rng.int(12);
    const c2 = rng.int(3);
    data[i * F + 7] = c1;
    data[i * F + 8] = c2;
    z += (c1 % 4) * 0.5 - 0.7 + (c2 === 1 ? 0.4 : 0);
    const y = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    const p = 0.3 + 0.4 * rng.next();
    grad[i] = p - y;
    hess[i] = p * (1 - p);
  }
  return { X: { nRows: n, nCols: F, data, names: Array.from({ length: F }, (_, k) => `x${k}`) }, grad, hess };
}

describe('TreeBuilder split search on two threads', () => {
  it('grows exactly the one-thread tree (numeric and categorical splits) when both threads search each level', () => {
    // under 8,000 rows no node is summed in halves: every sum is one thread's, so the trees agree bit for bit
    const n = 6000;
    const { X, grad, hess } = mixed(n, 9);
    const mapper = fitBins(X, 254);
    const bins = applyBins(X, mapper);
    // categorical bins are one per code: the codes here are 0..k-1 (one bin each), so bin b is code b
    const categories = mapper.edges.map((e, f) => (f >= 7 ? Int32Array.from(e, (_, b) => b) : null));
    const params: TreeParams = {
      maxDepth: 6,
      minChildSamples: 3,
      minChildWeight: 1e-3,
      lambda: 1,
      minSplitGain: 0,
      featureFraction: 1,
      categories,
      minDataPerGroup: 20,
    };
    const rows = () => Int32Array.from({ length: n }, (_, i) => i);
    const one = new TreeBuilder(bins, X.nCols, mapper.edges, params, { cols: new Uint8Array(bins.length) });
    const shared = sharedArrays(n, X.nCols);
    const two = new TreeBuilder(bins, X.nCols, mapper.edges, params, shared);
    const helper = new HistogramHelper(shared, X.nCols, two.histSize, null, 68);
    two.helper = helper;
    try {
      const trees: [Tree, Tree][] = [];
      for (const byTree of [1, 0.6]) {
        const p = { ...params, featureFractionByTree: byTree };
        const a = new TreeBuilder(bins, X.nCols, mapper.edges, p, { cols: new Uint8Array(bins.length) });
        const b = new TreeBuilder(bins, X.nCols, mapper.edges, p, shared);
        b.helper = helper;
        const r = shared.rows;
        r.set(rows());
        trees.push([a.grow(rows(), grad, hess, new Rng(4)), b.grow(r, grad, hess, new Rng(4))]);
        b.helper = null;
      }
      shared.rows.set(rows());
      trees.push([one.grow(rows(), grad, hess, new Rng(1)), two.grow(shared.rows, grad, hess, new Rng(1))]);
      for (const [a, b] of trees) {
        expect(b).toEqual(a);
        expect(a.feature.filter((f) => f >= 0).length).toBeGreaterThan(20);
      }
      // the categorical features split somewhere (set splits are searched on the worker too)
      expect(trees[0][0].catOffset).toBeDefined();
    } finally {
      helper.close();
    }
  });
});
