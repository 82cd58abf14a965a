import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { addForest, addForestAsync, type CompleteForest, flatten } from './flat.js';
import { isShared, ScoringPool, sharedCopy } from './pool.js';
import { predictTree, type Tree } from './tree.js';

/** A full random tree of the given depth over nCols features, thresholds on a grid (ties). */
function tree(rng: Rng, nCols: number, depth: number): Tree {
  const n = (1 << (depth + 1)) - 1;
  const t: Tree = {
    feature: new Int32Array(n).fill(-1),
    threshold: new Float64Array(n),
    thresholdBin: new Uint8Array(n),
    defaultLeft: new Uint8Array(n),
    left: new Int32Array(n).fill(-1),
    right: new Int32Array(n).fill(-1),
    value: new Float64Array(n),
    gain: new Float64Array(n),
    cover: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    if (2 * i + 2 < n && rng.next() < 0.9) {
      t.feature[i] = rng.int(nCols);
      t.threshold[i] = (rng.int(9) - 4) / 2;
      t.defaultLeft[i] = rng.next() < 0.5 ? 1 : 0;
      t.left[i] = 2 * i + 1;
      t.right[i] = 2 * i + 2;
    } else t.value[i] = rng.normal();
  }
  return t;
}

const data = (rng: Rng, nRows: number, nCols: number) =>
  Float64Array.from({ length: nRows * nCols }, () => {
    const u = rng.next();
    return u < 0.1 ? Number.NaN : u < 0.4 ? (rng.int(9) - 4) / 2 : rng.normal() * 2;
  });

const expected = (trees: Tree[], x: Float64Array, nRows: number, nCols: number, start: number) => {
  const out = new Float64Array(nRows).fill(start);
  for (const t of trees) for (let i = 0; i < nRows; i++) out[i] += predictTree(t, x, i * nCols);
  return out;
};

describe('scoring pool', () => {
  const pool = new ScoringPool(2);
  const rng = new Rng(5);
  const nCols = 6;
  const trees = Array.from({ length: 40 }, () => tree(rng, nCols, 1 + rng.int(6)));
  const f = flatten(trees) as CompleteForest;
  afterAll(() => pool.close());

  it('keeps the forest in shared memory', () => {
    expect(f.layout).toBe('complete');
    expect(isShared(f)).toBe(true);
    const plain = Float64Array.of(1, 2);
    expect(sharedCopy(plain).buffer).toBeInstanceOf(SharedArrayBuffer);
    const s = sharedCopy(plain);
    expect(sharedCopy(s)).toBe(s);
  });

  it('the calling thread and the workers together give the one-thread sums exactly', async () => {
    // a first awaited job: the workers are running, so they take blocks of the jobs below
    await pool.add(f, data(rng, 10, nCols), 10, nCols, new Float64Array(10));
    for (const nRows of [1, 255, 256, 257, 5000]) {
      const x = data(rng, nRows, nCols);
      const out = new Float64Array(nRows).fill(-0.25);
      pool.addSync(f, x, nRows, nCols, out);
      expect(Array.from(out)).toEqual(Array.from(expected(trees, x, nRows, nCols, -0.25)));
    }
  });

  it('workers alone (awaited) give the same sums, also for concurrent jobs', async () => {
    const jobs = [300, 4097, 20, 9000].map((nRows) => {
      const x = data(rng, nRows, nCols);
      const out = new Float64Array(nRows).fill(0.5);
      return { nRows, x, out, done: pool.add(f, x, nRows, nCols, out) };
    });
    for (const j of jobs) {
      await j.done;
      expect(Array.from(j.out)).toEqual(Array.from(expected(trees, j.x, j.nRows, nCols, 0.5)));
    }
  });

  it('addForest shares large batches with the process pool, addForestAsync awaits it', async () => {
    const nRows = 6000;
    const x = data(rng, nRows, nCols);
    const want = Array.from(expected(trees, x, nRows, nCols, 0));
    const a = new Float64Array(nRows);
    addForest(f, x, nRows, nCols, a, 2);
    expect(Array.from(a)).toEqual(want);
    const b = new Float64Array(nRows);
    await addForestAsync(f, x, nRows, nCols, b);
    expect(Array.from(b)).toEqual(want);
  });
});
