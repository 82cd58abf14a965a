import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { addLeaves, partitionMask, partitionRows } from './hist-kernel.mjs';

describe('hist-kernel addLeaves', () => {
  it('adds each leaf’s value to the margins of its rows, the same in any split of the positions', () => {
    const rng = new Rng(3);
    const n = 5000;
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    // leaves: consecutive position ranges
    const cuts = [0, 7, 900, 901, 2500, 4999, n];
    const L = new Float64Array(3 * (cuts.length - 1));
    for (let q = 0; q + 1 < cuts.length; q++) L.set([cuts[q], cuts[q + 1], rng.normal() * 0.3], 3 * q);
    const M0 = Float64Array.from({ length: n }, () => rng.normal() * 4);
    const M = M0.slice();
    for (let q = 0; q + 1 < cuts.length; q++)
      for (let i = cuts[q]; i < cuts[q + 1]; i++) M[rows[i]] += L[3 * q + 2];
    for (const half of [0, 1, 901, 3000, n]) {
      const M2 = M0.slice();
      addLeaves(L, cuts.length - 1, rows, half, n, M2);
      addLeaves(L, cuts.length - 1, rows, 0, half, M2);
      expect(M2).toEqual(M);
    }
  });
});

describe('hist-kernel partitionRows', () => {
  it('splits a row range stably by bin, missing rows by missingLeft, as a branching loop does', () => {
    const rng = new Rng(5);
    const n = 3000;
    const col = Uint8Array.from({ length: n }, () => (rng.next() < 0.1 ? 255 : rng.int(254)));
    const mask = Uint8Array.from({ length: 256 }, () => (rng.next() < 0.5 ? 1 : 0));
    const rows0 = Int32Array.from({ length: n }, (_, i) => i).filter(() => rng.next() < 0.7);
    const m = rows0.length;
    const expectSplit = (goesLeft: (v: number) => boolean, run: (R: Int32Array, S: Int32Array) => number) => {
      const R = rows0.slice();
      const S = new Int32Array(m + 10).fill(-1);
      const wl = run(R, S);
      const inRange = rows0.subarray(5, m - 5);
      const left = inRange.filter((r) => goesLeft(col[r]));
      const right = inRange.filter((r) => !goesLeft(col[r]));
      // positions [0, 5) and [m - 5, m) are outside the range
      expect(Array.from(R.subarray(0, 5))).toEqual(Array.from(rows0.subarray(0, 5)));
      expect(Array.from(R.subarray(m - 5))).toEqual(Array.from(rows0.subarray(m - 5)));
      expect(wl).toBe(5 + left.length);
      expect(Array.from(R.subarray(5, wl))).toEqual(Array.from(left));
      expect(Array.from(S.subarray(10, 10 + right.length))).toEqual(Array.from(right));
    };
    for (const bin of [0, 17, 126, 253])
      for (const missingLeft of [false, true])
        expectSplit(
          (v) => (v === 255 ? missingLeft : v <= bin),
          (R, S) => partitionRows(R, S, col, 5, m - 5, bin, missingLeft, 10),
        );
    expectSplit(
      (v) => mask[v] === 1,
      (R, S) => partitionMask(R, S, col, 5, m - 5, mask, 10),
    );
  });
});
