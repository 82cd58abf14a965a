import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { addLeaves } from './hist-kernel.mjs';

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
