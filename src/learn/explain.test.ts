/**
 * TreeSHAP against the definition: Shapley values computed by brute force over every feature
 * subset, with E[f(x) | x_S] from the trees' covers (Lundberg et al.'s Algorithm 1), on
 * handmade and random trees; then additivity on fitted models and the global importances.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { meanAbsShap, permutationImportance, type TreeEnsemble, treeShap } from './explain/index.js';
import { RandomForestClassifier } from './forest.js';
import { GradientBoostingClassifier } from './gbdt.js';
import type { Tree } from './tree/tree.js';
import type { Matrix } from './types.js';

type Spec =
  | { leaf: number; cover: number }
  | { f: number; t: number; missingLeft?: boolean; l: Spec; r: Spec };

/** A Tree from a nested spec (children after parents, covers summed up from the leaves). */
function build(spec: Spec): Tree {
  const nodes: {
    feature: number;
    threshold: number;
    dl: number;
    left: number;
    right: number;
    value: number;
    cover: number;
  }[] = [];
  const add = (s: Spec): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, dl: 0, left: -1, right: -1, value: 0, cover: 0 });
    if ('leaf' in s) {
      nodes[id].value = s.leaf;
      nodes[id].cover = s.cover;
    } else {
      const l = add(s.l);
      const r = add(s.r);
      Object.assign(nodes[id], {
        feature: s.f,
        threshold: s.t,
        dl: s.missingLeft === false ? 0 : 1,
        left: l,
        right: r,
        cover: nodes[l].cover + nodes[r].cover,
      });
    }
    return id;
  };
  add(spec);
  const n = nodes.length;
  return {
    feature: Int32Array.from(nodes, (x) => x.feature),
    threshold: Float64Array.from(nodes, (x) => x.threshold),
    thresholdBin: new Uint8Array(n),
    defaultLeft: Uint8Array.from(nodes, (x) => x.dl),
    left: Int32Array.from(nodes, (x) => x.left),
    right: Int32Array.from(nodes, (x) => x.right),
    value: Float64Array.from(nodes, (x) => x.value),
    gain: new Float64Array(n),
    cover: Float64Array.from(nodes, (x) => x.cover),
  };
}

function randomSpec(rng: Rng, depth: number, nFeatures: number): Spec {
  if (depth === 0 || rng.next() < 0.2) return { leaf: rng.normal(), cover: 1 + rng.int(20) };
  return {
    f: rng.int(nFeatures),
    t: rng.normal(),
    missingLeft: rng.next() < 0.5,
    l: randomSpec(rng, depth - 1, nFeatures),
    r: randomSpec(rng, depth - 1, nFeatures),
  };
}

/** E[tree(x) | x_S]: follow x on features in S, average children by cover elsewhere. */
function conditional(t: Tree, x: ArrayLike<number>, inS: (f: number) => boolean, node = 0): number {
  if (t.feature[node] === -1) return t.value[node];
  const f = t.feature[node];
  const l = t.left[node];
  const r = t.right[node];
  if (inS(f)) {
    const v = x[f];
    const left = v <= t.threshold[node] ? true : v > t.threshold[node] ? false : t.defaultLeft[node] === 1;
    return conditional(t, x, inS, left ? l : r);
  }
  return (t.cover[l] * conditional(t, x, inS, l) + t.cover[r] * conditional(t, x, inS, r)) / t.cover[node];
}

/** Shapley values by enumerating all 2^M subsets. */
function bruteShap(trees: Tree[], x: ArrayLike<number>, M: number): number[] {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const v = (mask: number) =>
    trees.reduce((a, t) => a + conditional(t, x, (f) => ((mask >> f) & 1) === 1), 0);
  const phi = new Array<number>(M).fill(0);
  for (let i = 0; i < M; i++)
    for (let mask = 0; mask < 1 << M; mask++) {
      if ((mask >> i) & 1) continue;
      let size = 0;
      for (let b = 0; b < M; b++) size += (mask >> b) & 1;
      const w = (fact(size) * fact(M - size - 1)) / fact(M);
      phi[i] += w * (v(mask | (1 << i)) - v(mask));
    }
  return phi;
}

const ensemble = (trees: Tree[], M: number): TreeEnsemble => ({
  trees,
  bias: 0,
  scale: 1,
  nFeatures: M,
  names: Array.from({ length: M }, (_, j) => `f${j}`),
  output: 'margin',
});
const matrix = (rows: number[][]): Matrix => ({
  nRows: rows.length,
  nCols: rows[0].length,
  data: Float64Array.from(rows.flat()),
  names: rows[0].map((_, j) => `f${j}`),
});

describe('TreeSHAP equals the Shapley values of the definition', () => {
  it('on a handmade tree that splits twice on one feature, with a missing value', () => {
    const tree = build({
      f: 0,
      t: 0.5,
      l: {
        f: 1,
        t: 0,
        missingLeft: false,
        l: { leaf: 1, cover: 3 },
        r: { f: 0, t: -1, l: { leaf: 5, cover: 2 }, r: { leaf: -2, cover: 4 } },
      },
      r: { f: 2, t: 1, l: { leaf: 3, cover: 6 }, r: { leaf: 0.5, cover: 1 } },
    });
    const rows = [
      [0, 1, 2],
      [-3, Number.NaN, 0],
      [2, 0, 0.5],
      [Number.NaN, -1, Number.NaN],
    ];
    const shap = treeShap(ensemble([tree], 3), matrix(rows));
    rows.forEach((x, r) => {
      const want = bruteShap([tree], x, 3);
      for (let j = 0; j < 3; j++) expect(shap.values[r * 3 + j]).toBeCloseTo(want[j], 12);
    });
    // base value: the cover-weighted mean leaf
    expect(shap.baseValue).toBeCloseTo((1 * 3 + 5 * 2 - 2 * 4 + 3 * 6 + 0.5 * 1) / 16, 12);
  });

  it('on random ensembles of deep trees with repeated features and missing values', () => {
    const rng = new Rng(5);
    const M = 5;
    for (let trial = 0; trial < 6; trial++) {
      const trees = Array.from({ length: 3 }, () => build(randomSpec(rng, 6, M)));
      const rows = Array.from({ length: 8 }, () =>
        Array.from({ length: M }, () => (rng.next() < 0.15 ? Number.NaN : rng.normal())),
      );
      const shap = treeShap(ensemble(trees, M), matrix(rows));
      rows.forEach((x, r) => {
        const want = bruteShap(trees, x, M);
        for (let j = 0; j < M; j++) expect(Math.abs(shap.values[r * M + j] - want[j])).toBeLessThan(1e-10);
      });
    }
  });
});

describe('TreeSHAP on fitted models and global importance', () => {
  const rng = new Rng(21);
  const n = 1500;
  const names = ['signal', 'weak', 'noise', 'gappy'];
  const data = new Float64Array(n * 4);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = rng.normal();
    const w = rng.normal();
    data[i * 4] = s;
    data[i * 4 + 1] = w;
    data[i * 4 + 2] = rng.normal();
    data[i * 4 + 3] = rng.next() < 0.3 ? Number.NaN : rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2.5 * s + 0.7 * w))) ? 1 : 0;
  }
  const X: Matrix = { nRows: n, nCols: 4, data, names };
  const head: Matrix = { nRows: 200, nCols: 4, data: data.subarray(0, 800), names };

  it('gradient boosting: base value + contributions = the log-odds margin, row by row', () => {
    const gb = new GradientBoostingClassifier({ nEstimators: 40, maxDepth: 4 }).fit(X, y);
    const shap = treeShap(gb, head);
    expect(shap.output).toBe('margin');
    const margin = gb.decisionFunction(head);
    for (let r = 0; r < head.nRows; r++) {
      let s = shap.baseValue;
      for (let j = 0; j < 4; j++) s += shap.values[r * 4 + j];
      expect(Math.abs(s - margin[r])).toBeLessThan(1e-9);
    }
    const imp = meanAbsShap(shap);
    expect(Object.keys(imp)).toEqual(names);
    expect(imp.signal).toBeGreaterThan(imp.weak);
    expect(imp.weak).toBeGreaterThan(imp.noise);
  });

  it('random forest: base value + contributions = the probability', () => {
    const rf = new RandomForestClassifier({ nEstimators: 15, maxDepth: 8 }).fit(X, y);
    const shap = treeShap(rf, head);
    expect(shap.output).toBe('probability');
    const p = rf.predictProba(head);
    for (let r = 0; r < head.nRows; r++) {
      let s = shap.baseValue;
      for (let j = 0; j < 4; j++) s += shap.values[r * 4 + j];
      expect(Math.abs(s - p[r])).toBeLessThan(1e-9);
    }
    expect(() => treeShap(rf, { ...head, nCols: 3 })).toThrow(/fitted on 4 features, got 3/);
    expect(() => treeShap(new RandomForestClassifier(), head)).toThrow(/not fitted/);
  });

  it('permutation importance: shuffling the signal hurts most, noise hardly at all, seeded', () => {
    const gb = new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 3 }).fit(X, y);
    const predict = (m: Matrix) => gb.predictProba(m);
    const a = permutationImportance(predict, X, y, { nRepeats: 3, seed: 1 });
    expect(a.baseline).toBeGreaterThan(0.8);
    expect(a.mean.signal).toBeGreaterThan(0.1);
    expect(a.mean.signal).toBeGreaterThan(a.mean.weak);
    expect(Math.abs(a.mean.noise)).toBeLessThan(0.02);
    expect(permutationImportance(predict, X, y, { nRepeats: 3, seed: 1 })).toEqual(a);
    expect(Array.from(X.data.subarray(0, 8))).toEqual(Array.from(data.subarray(0, 8))); // X untouched
    expect(() => permutationImportance(predict, X, [1, 0])).toThrow(/1500 rows but y has 2/);
  });
});
