import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { addForest, COMPLETE_MAX_DEPTH, flatten, treeDepth } from './flat.js';
import { addCompleteRows } from './score-kernel.mjs';
import { addRowsWasm } from './score-wasm.mjs';
import { predictTree, type Tree } from './tree.js';

/** A random tree: unbalanced, leaves at every depth, thresholds on a grid so ties happen. */
function randomTree(rng: Rng, nFeatures: number, maxDepth: number): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const defaultLeft: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const grow = (depth: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    defaultLeft.push(0);
    left.push(-1);
    right.push(-1);
    value.push(rng.normal());
    if (depth < maxDepth && (depth === 0 || rng.next() < 0.75)) {
      feature[id] = rng.int(nFeatures);
      threshold[id] = (rng.int(9) - 4) / 2;
      defaultLeft[id] = rng.next() < 0.5 ? 1 : 0;
      value[id] = 0;
      left[id] = grow(depth + 1);
      right[id] = grow(depth + 1);
    }
    return id;
  };
  grow(0);
  const n = feature.length;
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    thresholdBin: new Uint8Array(n),
    defaultLeft: Uint8Array.from(defaultLeft),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    gain: new Float64Array(n),
    cover: new Float64Array(n),
  };
}

function randomData(rng: Rng, nRows: number, nCols: number): Float64Array {
  // values on the threshold grid (ties), off it, and missing
  return Float64Array.from({ length: nRows * nCols }, () => {
    const u = rng.next();
    return u < 0.15 ? Number.NaN : u < 0.5 ? (rng.int(9) - 4) / 2 : rng.normal() * 2;
  });
}

/** start + each tree's value for each row, trees in order. */
const from = (start: number, trees: Tree[], data: Float64Array, nRows: number, nCols: number) => {
  const out = new Float64Array(nRows).fill(start);
  for (const t of trees) for (let i = 0; i < nRows; i++) out[i] += predictTree(t, data, i * nCols);
  return out;
};

const walk = (trees: Tree[], data: Float64Array, nRows: number, nCols: number) => {
  const out = new Float64Array(nRows);
  for (const t of trees) for (let i = 0; i < nRows; i++) out[i] += predictTree(t, data, i * nCols);
  return out;
};

describe('flat forests', () => {
  it('both layouts give exactly the per-tree walk, for unbalanced trees, ties and missing values', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const nCols = 1 + rng.int(6);
      const trees = Array.from({ length: 1 + rng.int(30) }, () => randomTree(rng, nCols, rng.int(8)));
      const nRows = 200;
      const data = randomData(rng, nRows, nCols);
      const expected = walk(trees, data, nRows, nCols);
      for (const layout of ['complete', 'linked'] as const) {
        const f = flatten(trees, layout);
        expect(f.layout).toBe(layout);
        const out = new Float64Array(nRows);
        addForest(f, data, nRows, nCols, out);
        expect(Array.from(out)).toEqual(Array.from(expected));
        // a few rows at a time (the online-serving path), rows 0-4 as batches of 1 to 5
        for (let k = 1; k <= 5; k++) {
          const few = new Float64Array(k);
          addForest(f, data.subarray(0, k * nCols), k, nCols, few);
          expect(Array.from(few)).toEqual(Array.from(expected.subarray(0, k)));
        }
      }
    }
  });

  it('batches of any size (eight-row groups, leftovers, several blocks) give the per-tree walk', () => {
    const rng = new Rng(19);
    const nCols = 5;
    const trees = Array.from({ length: 25 }, () => randomTree(rng, nCols, 1 + rng.int(7)));
    const f = flatten(trees, 'complete');
    for (const nRows of [8, 9, 15, 63, 64, 65, 71, 130, 203]) {
      const data = randomData(rng, nRows, nCols);
      const out = new Float64Array(nRows).fill(0.5);
      addForest(f, data, nRows, nCols, out);
      // the sums start from what out held (a base score) and add the trees in order
      const expected = new Float64Array(nRows).fill(0.5);
      for (const t of trees) for (let i = 0; i < nRows; i++) expected[i] += predictTree(t, data, i * nCols);
      expect(Array.from(out)).toEqual(Array.from(expected));
    }
  });

  it('scores few rows four same-depth trees at a time, then the rest one by one', () => {
    const rng = new Rng(11);
    const nCols = 4;
    // 9 trees of depth 5, then mixed depths: groups of four, a broken group, leftovers
    const trees = [
      ...Array.from({ length: 9 }, () => randomTree(rng, nCols, 5)).filter((t) => treeDepth(t) === 5),
      randomTree(rng, nCols, 3),
      randomTree(rng, nCols, 6),
    ];
    const data = randomData(rng, 3, nCols);
    const f = flatten(trees, 'complete');
    const out = new Float64Array(3);
    addForest(f, data, 3, nCols, out);
    expect(Array.from(out)).toEqual(Array.from(walk(trees, data, 3, nCols)));
  });

  it('reads missing values as infinities only where that routes them as the missing-value test does', () => {
    const rng = new Rng(29);
    for (let trial = 0; trial < 12; trial++) {
      const nCols = 1 + rng.int(5);
      const trees = Array.from({ length: 1 + rng.int(24) }, () => randomTree(rng, nCols, 1 + rng.int(7)));
      // some trials put infinite thresholds on nodes: +Infinity on a node sending missing values
      // right rules out reading them as +Infinity (the forest keeps the missing-value test)
      const infinite = trial % 3;
      if (infinite > 0)
        for (const t of trees)
          for (let n = 0; n < t.feature.length; n++)
            if (t.feature[n] !== -1 && rng.next() < 0.2) {
              t.threshold[n] = infinite === 1 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
              if (infinite === 2) t.defaultLeft[n] = 0;
            }
      const f = flatten(trees, 'complete');
      if (f.layout !== 'complete') throw new Error('expected the complete layout');
      expect(f.missingAsInfinity).toBe(infinite !== 2);
      // present infinite values beside missing ones
      const nRows = 150;
      const data = randomData(rng, nRows, nCols).map((v, i) =>
        i % 11 === 0 ? Number.POSITIVE_INFINITY : i % 13 === 0 ? Number.NEGATIVE_INFINITY : v,
      );
      const expected = walk(trees, data, nRows, nCols);
      const out = new Float64Array(nRows);
      addForest(f, data, nRows, nCols, out);
      expect(Array.from(out)).toEqual(Array.from(expected));
      for (let k = 1; k <= 3; k++) {
        const few = new Float64Array(k);
        addForest(f, data.subarray(0, k * nCols), k, nCols, few);
        expect(Array.from(few)).toEqual(Array.from(expected.subarray(0, k)));
      }
    }
  });

  it('the WebAssembly walk and its JavaScript form give the per-tree walk, forests taking turns', () => {
    const rng = new Rng(41);
    const cases = Array.from({ length: 6 }, (_, k) => {
      const nCols = 1 + rng.int(9);
      const trees = Array.from({ length: 1 + rng.int(40) }, () =>
        randomTree(rng, nCols, k === 0 ? 0 : rng.int(8)),
      );
      const f = flatten(trees, 'complete');
      if (f.layout !== 'complete' || !f.missingAsInfinity)
        throw new Error('expected missing values as infinities');
      const nRows = [1, 7, 8, 33, 64, 97][k];
      const data = randomData(rng, nRows, nCols).map((v, i) => (i % 17 === 3 ? Number.POSITIVE_INFINITY : v));
      return { f, nCols, nRows, data, expected: from(0.25, trees, data, nRows, nCols) };
    });
    // twice round, so each forest is copied into the WebAssembly memory again after the others
    for (let round = 0; round < 2; round++)
      for (const { f, nCols, nRows, data, expected } of cases) {
        const wasm = new Float64Array(nRows).fill(0.25);
        expect(addRowsWasm(f, data, 0, nRows, nCols, wasm)).toBe(true);
        expect(Array.from(wasm)).toEqual(Array.from(expected));
        // without an id the forest is walked by the JavaScript kernel
        const js = new Float64Array(nRows).fill(0.25);
        addCompleteRows({ ...f, id: undefined }, data, 0, nRows, nCols, js);
        expect(Array.from(js)).toEqual(Array.from(expected));
        // a row range inside the batch
        if (nRows > 2) {
          const part = new Float64Array(nRows).fill(0.25);
          addRowsWasm(f, data, 1, nRows - 1, nCols, part);
          expect(Array.from(part.subarray(1, nRows - 1))).toEqual(
            Array.from(expected.subarray(1, nRows - 1)),
          );
          expect([part[0], part[nRows - 1]]).toEqual([0.25, 0.25]);
        }
      }
  });

  it('picks the complete layout for shallow trees and the linked one for deep trees', () => {
    const rng = new Rng(3);
    const shallow = [randomTree(rng, 3, 4), randomTree(rng, 3, 2)];
    expect(flatten(shallow).layout).toBe('complete');
    // a chain deeper than the complete layout allows
    const deep = randomTree(rng, 2, 0);
    const chain: Tree = {
      ...deep,
      feature: new Int32Array(2 * COMPLETE_MAX_DEPTH + 3).fill(-1),
    };
    const n = chain.feature.length;
    chain.threshold = new Float64Array(n);
    chain.defaultLeft = new Uint8Array(n);
    chain.left = new Int32Array(n).fill(-1);
    chain.right = new Int32Array(n).fill(-1);
    chain.value = Float64Array.from({ length: n }, (_, i) => i);
    chain.thresholdBin = new Uint8Array(n);
    chain.gain = new Float64Array(n);
    chain.cover = new Float64Array(n);
    // node 2k splits into leaf 2k+1 and node 2k+2
    for (let k = 0; 2 * k + 2 < n; k++) {
      chain.feature[2 * k] = 0;
      chain.left[2 * k] = 2 * k + 1;
      chain.right[2 * k] = 2 * k + 2;
    }
    expect(treeDepth(chain)).toBe(COMPLETE_MAX_DEPTH + 1);
    expect(flatten([...shallow, chain]).layout).toBe('linked');
    const data = Float64Array.from([-1, 0, 1, 5, Number.NaN, 0.5]);
    const out = new Float64Array(6);
    addForest(flatten([chain]), data, 6, 1, out);
    expect(Array.from(out)).toEqual(Array.from(walk([chain], data, 6, 1)));
  });

  it('category-set splits walk flat arrays in both layouts and route as the tree walk does', () => {
    const rng = new Rng(23);
    for (let trial = 0; trial < 15; trial++) {
      const nCols = 2 + rng.int(4);
      const trees = Array.from({ length: 1 + rng.int(20) }, () => {
        const t = randomTree(rng, nCols, 1 + rng.int(7));
        // about a third of the internal nodes become category-set splits on codes 0..69 (a
        // bitset of up to three words), the rest stay numeric
        const offsets = [0];
        const values: number[] = [];
        for (let n = 0; n < t.feature.length; n++) {
          if (t.feature[n] !== -1 && rng.next() < 0.35) {
            const codes = new Set<number>();
            const k = 1 + rng.int(6);
            for (let i = 0; i < k; i++) codes.add(rng.int(70));
            values.push(...[...codes].sort((a, b) => a - b));
            t.threshold[n] = Number.NaN;
          }
          offsets.push(values.length);
        }
        t.catOffset = Int32Array.from(offsets);
        t.catValues = Int32Array.from(values);
        return t;
      });
      const nRows = 150;
      // codes (seen and unseen, beyond the bitsets), missing, negative and fractional values
      const data = Float64Array.from({ length: nRows * nCols }, () => {
        const u = rng.next();
        return u < 0.1 ? Number.NaN : u < 0.15 ? -1 : u < 0.2 ? 2.5 : u < 0.25 ? 1e10 : rng.int(75);
      });
      const expected = walk(trees, data, nRows, nCols);
      for (const layout of ['complete', 'linked'] as const) {
        const f = flatten(trees, layout);
        expect(f.cat).toBeDefined();
        const out = new Float64Array(nRows);
        addForest(f, data, nRows, nCols, out, 2);
        expect(Array.from(out)).toEqual(Array.from(expected));
      }
    }
  });

  it('a single-leaf tree adds its value to every row', () => {
    const t: Tree = {
      feature: Int32Array.of(-1),
      threshold: Float64Array.of(0),
      thresholdBin: Uint8Array.of(0),
      defaultLeft: Uint8Array.of(0),
      left: Int32Array.of(-1),
      right: Int32Array.of(-1),
      value: Float64Array.of(0.25),
      gain: Float64Array.of(0),
      cover: Float64Array.of(0),
    };
    const out = new Float64Array(3);
    addForest(flatten([t]), Float64Array.of(1, Number.NaN, 3), 3, 1, out);
    expect(Array.from(out)).toEqual([0.25, 0.25, 0.25]);
  });
});
