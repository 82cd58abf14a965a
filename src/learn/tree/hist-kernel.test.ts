import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { addLeaves, binaryGradients } from './hist-kernel.mjs';

describe('hist-kernel addLeaves', () => {
  it('adds leaf values by row position and gives each row the gradients binaryGradients gives, in any split of the positions', () => {
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
    const Y = Float64Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
    for (const Wt of [null, Float64Array.from({ length: n }, () => 0.5 + rng.next())]) {
      // reference: margins updated, then the gradients of every row by index
      const M = M0.slice();
      for (let q = 0; q + 1 < cuts.length; q++)
        for (let i = cuts[q]; i < cuts[q + 1]; i++) M[rows[i]] += L[3 * q + 2];
      const G = new Float64Array(n);
      const Hs = new Float64Array(n);
      const GH = new Float64Array(2 * n);
      binaryGradients(M, Y, Wt, 2.5, G, Hs, GH, 0, n);
      for (const half of [0, 1, 901, 3000, n]) {
        const M2 = M0.slice();
        const G2 = new Float64Array(n);
        const Hs2 = new Float64Array(n);
        const GH2 = new Float64Array(2 * n);
        addLeaves(L, cuts.length - 1, rows, half, n, M2, Y, Wt, 2.5, G2, Hs2, GH2);
        addLeaves(L, cuts.length - 1, rows, 0, half, M2, Y, Wt, 2.5, G2, Hs2, GH2);
        expect(M2).toEqual(M);
        expect(G2).toEqual(G);
        expect(Hs2).toEqual(Hs);
        expect(GH2).toEqual(GH);
      }
      // without labels: margins only
      const M3 = M0.slice();
      const untouched = new Float64Array(n);
      addLeaves(L, cuts.length - 1, rows, 0, n, M3, null, Wt, 2.5, untouched, untouched, untouched);
      expect(M3).toEqual(M);
      expect(untouched.every((v) => v === 0)).toBe(true);
    }
  });
});
