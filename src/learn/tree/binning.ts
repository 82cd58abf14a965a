/**
 * Per-feature quantile bins (LightGBM's BinMapper, simplified): at most `maxBins` value bins per
 * feature from the distinct values (or quantiles) of the training data, plus one bin for missing
 * values. Features are binned once into a row-major Uint8Array: bins[row * nFeatures + f].
 */
import type { Matrix } from '../types.js';
import { featureEdges } from './bin-kernel.mjs';

export const MISSING_BIN = 255;

export interface BinMapper {
  /** Upper edges per feature: value v falls in the first bin b with v <= edges[b]; the last edge is +Infinity. */
  edges: Float64Array[];
}

/** Bin boundaries come from at most this many rows (evenly spaced), as LightGBM's bin_construct_sample_cnt. */
export const BIN_SAMPLE_ROWS = 200_000;

export function fitBins(X: Matrix, maxBins = 254): BinMapper {
  const { nRows, nCols, data } = X;
  const limit = binLimit(maxBins);
  const edges: Float64Array[] = [];
  const step = sampleStep(nRows);
  const col = new Float64Array(Math.ceil(nRows / step));
  const out = new Float64Array(256);
  for (let f = 0; f < nCols; f++) {
    let m = 0;
    for (let r = 0; r < nRows; r += step) {
      const v = data[r * nCols + f];
      if (!Number.isNaN(v)) col[m++] = v;
    }
    edges.push(out.slice(0, featureEdges(col.subarray(0, m), limit, out)));
  }
  return { edges };
}

/** Value bins per feature at most (254: bin 255 is the missing bin). */
export function binLimit(maxBins: number): number {
  return Math.min(maxBins, 254);
}

/** Every step-th row is sampled for the bin edges (at most BIN_SAMPLE_ROWS rows). */
export function sampleStep(nRows: number): number {
  return Math.max(1, Math.ceil(nRows / BIN_SAMPLE_ROWS));
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

/** Cells of the lookup grid per feature (see BinLookup). */
const CELLS = 2048;
/** Above this many edges in one cell a feature is binned by binary search instead. */
const MAX_SCAN = 8;

/**
 * A lookup for binValue: a uniform grid of CELLS cells between the first and the last finite
 * edge, each cell holding the bin of its lower boundary, so a value's bin is its cell's bin plus
 * a short forward scan (quantile edges are densest where the values are, so cells hold a few
 * edges at most). Null when the edges are too uneven for that (heavy tails): binary search then.
 */
interface BinLookup {
  lo: number;
  scale: number;
  start: Uint8Array;
}

function binLookup(edges: Float64Array): BinLookup | null {
  const last = edges.length - 2; // the last finite edge (edges end with +Infinity)
  if (last < 1) return null;
  const lo = edges[0];
  const hi = edges[last];
  const scale = CELLS / (hi - lo);
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi) || !(scale > 0 && scale < Infinity))
    return null;
  const start = new Uint8Array(CELLS + 1);
  let b = 0;
  for (let c = 0; c <= CELLS; c++) {
    const x = lo + c / scale;
    while (b < last + 1 && edges[b] < x) b++;
    start[c] = b;
    if (c > 0 && start[c] - start[c - 1] > MAX_SCAN) return null;
  }
  return { lo, scale, start };
}

/**
 * Bin every value of X (row-major out[row * nCols + f], MISSING_BIN for NaN). Reads X once, row
 * by row; each value's bin is exactly binValue's.
 */
export function applyBins(X: Matrix, mapper: BinMapper, into?: Uint8Array): Uint8Array {
  const { nRows, nCols, data } = X;
  const out = into ?? new Uint8Array(nRows * nCols);
  const edges = mapper.edges;
  const lookups = edges.map(binLookup);
  for (let r = 0, k = 0; r < nRows; r++)
    for (let f = 0; f < nCols; f++, k++) {
      const v = data[k];
      const L = lookups[f];
      out[k] = L === null ? binValue(edges[f], v) : lookupBin(edges[f], L, v);
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

function lookupBin(e: Float64Array, L: BinLookup, v: number): number {
  if (!(v > e[0])) return Number.isNaN(v) ? MISSING_BIN : 0;
  let c = Math.floor((v - L.lo) * L.scale);
  if (!(c <= CELLS)) c = CELLS; // +Infinity
  let b = L.start[c];
  // the cell's boundary is rounded: step back if v is at or below the previous edge, then forward
  while (b > 0 && v <= e[b - 1]) b--;
  while (!(v <= e[b])) b++;
  return b;
}
