import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { fitBins } from './binning.js';
import { HistogramHelper, sharedArrays, sharedBinSample } from './parallel.js';

describe('HistogramHelper.fitEdges', () => {
  it('gives fitBins’s edges with the features sorted on both threads', () => {
    const rng = new Rng(8);
    const n = 450_000; // over BIN_SAMPLE_ROWS: every third row sampled
    const F = 7;
    const data = new Float64Array(n * F);
    for (let i = 0; i < n; i++) {
      data[i * F] = rng.normal();
      data[i * F + 1] = rng.next() < 0.3 ? Number.NaN : Math.round(rng.normal() * 50);
      data[i * F + 2] = rng.int(4);
      data[i * F + 3] = Number.NaN; // all missing
      data[i * F + 4] = rng.next() < 0.5 ? -0 : 0;
      data[i * F + 5] = Math.exp(rng.normal() * 3);
      data[i * F + 6] = 7;
    }
    const X = { nRows: n, nCols: F, data, names: Array.from({ length: F }, (_, f) => `x${f}`) };
    for (const maxBins of [254, 16]) {
      const helper = new HistogramHelper(sharedArrays(16, F), F, F * 768, null, 0, sharedBinSample(n, F));
      try {
        const edges = helper.fitEdges(X, maxBins);
        expect(edges).toEqual(fitBins(X, maxBins).edges);
        expect(helper.fitEdges(X, maxBins)).toBeNull(); // once per fit: the sample is let go
      } finally {
        helper.close();
      }
    }
  });
});
