/**
 * Per-feature quantile bins (LightGBM's BinMapper, simplified): at most `maxBins` value bins per
 * feature from the distinct values (or quantiles) of the training data, plus one bin for missing
 * values. Features are binned once into a row-major Uint8Array: bins[row * nFeatures + f].
 */
import type { Matrix } from '../types.js';

export const MISSING_BIN = 255;

export interface BinMapper {
  /** Upper edges per feature: value v falls in the first bin b with v <= edges[b]; the last edge is +Infinity. */
  edges: Float64Array[];
}

/** Bin boundaries come from at most this many rows (evenly spaced), as LightGBM's bin_construct_sample_cnt. */
export const BIN_SAMPLE_ROWS = 200_000;

export function fitBins(X: Matrix, maxBins = 254): BinMapper {
  const { nRows, nCols, data } = X;
  const limit = Math.min(maxBins, 254);
  const edges: Float64Array[] = [];
  const step = Math.max(1, Math.ceil(nRows / BIN_SAMPLE_ROWS));
  const col = new Float64Array(Math.ceil(nRows / step));
  for (let f = 0; f < nCols; f++) {
    let m = 0;
    for (let r = 0; r < nRows; r += step) {
      const v = data[r * nCols + f];
      if (!Number.isNaN(v)) col[m++] = v;
    }
    const sorted = col.subarray(0, m).slice().sort();
    const distinct: number[] = [];
    for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
    let e: number[];
    if (distinct.length <= limit) {
      // one bin per distinct value; edges halfway between neighbours
      e = distinct.slice(0, -1).map((v, i) => (v + distinct[i + 1]) / 2);
    } else {
      e = [];
      for (let b = 1; b < limit; b++) {
        const q = sorted[Math.min(m - 1, Math.floor((b * m) / limit))];
        const prev = e.length ? e[e.length - 1] : Number.NEGATIVE_INFINITY;
        if (q > prev && q < sorted[m - 1]) e.push(q);
      }
    }
    e.push(Number.POSITIVE_INFINITY);
    edges.push(Float64Array.from(e));
  }
  return { edges };
}

export function binValue(edges: Float64Array, v: number): number {
  if (Number.isNaN(v)) return MISSING_BIN;
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function applyBins(X: Matrix, mapper: BinMapper, into?: Uint8Array): Uint8Array {
  const { nRows, nCols, data } = X;
  const out = into ?? new Uint8Array(nRows * nCols);
  for (let f = 0; f < nCols; f++) {
    const e = mapper.edges[f];
    for (let r = 0; r < nRows; r++) out[r * nCols + f] = binValue(e, data[r * nCols + f]);
  }
  return out;
}

/**
 * Matrices whose bins may be computed once and reused by every tree model fitted on them (model
 * search fits hundreds of models on the same fold matrices). Opt-in: only a matrix passed to
 * shareBins is cached, and it must not be modified afterwards.
 */
const sharedBins = new WeakMap<Float64Array, Map<number, { mapper: BinMapper; bins: Uint8Array }>>();

/** Let tree models reuse the bins of X across fits (X.data must not change from now on). */
export function shareBins(X: Matrix): void {
  if (!sharedBins.has(X.data)) sharedBins.set(X.data, new Map());
}

/** fitBins + applyBins, from the cache when X was passed to shareBins. The bins must not be modified. */
export function binned(X: Matrix, maxBins: number): { mapper: BinMapper; bins: Uint8Array } {
  const cache = sharedBins.get(X.data);
  const hit = cache?.get(maxBins);
  if (hit) return hit;
  const mapper = fitBins(X, maxBins);
  const out = { mapper, bins: applyBins(X, mapper) };
  cache?.set(maxBins, out);
  return out;
}
