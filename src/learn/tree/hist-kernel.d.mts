/**
 * Rows idx[from:to] into out (grad, hess, count per bin, 256 bins per feature): four features per
 * 32-bit word of a row's padded bins (W words a row), then the rest byte by byte; gh holds each
 * row's gradient and hessian side by side.
 */
export function addRows(
  out: Float64Array,
  idx: Int32Array,
  from: number,
  to: number,
  words: Uint32Array,
  bytes: Uint8Array,
  W: number,
  F: number,
  gh: Float64Array,
): void;

/** addRows without the counts: out's count entries are left as they are. */
export function addGradients(
  out: Float64Array,
  idx: Int32Array,
  from: number,
  to: number,
  words: Uint32Array,
  bytes: Uint8Array,
  W: number,
  F: number,
  gh: Float64Array,
): void;

/**
 * Stable partition of R[start:end] by col (left: bin <= `bin`, the missing bin left when
 * missingLeft): left rows in place from `start`, right rows to S[spillAt:]; returns the end of
 * the left rows.
 */
export function partitionRows(
  R: Int32Array,
  S: Int32Array,
  col: Uint8Array,
  start: number,
  end: number,
  bin: number,
  missingLeft: boolean,
  spillAt: number,
): number;

/** partitionRows by a categorical split: mask[bin] is 1 for the bins going left (missing included). */
export function partitionMask(
  R: Int32Array,
  S: Int32Array,
  col: Uint8Array,
  start: number,
  end: number,
  mask: Uint8Array,
  spillAt: number,
): number;

/**
 * Binary log-loss gradients and hessians of rows [start, end) from margins M and labels Y (row
 * weights Wt, else wPos for positives and 1 for negatives), into G, Hs and the interleaved GH.
 */
export function binaryGradients(
  M: Float64Array,
  Y: Float64Array,
  Wt: Float64Array | null,
  wPos: number,
  G: Float64Array,
  Hs: Float64Array,
  GH: Float64Array,
  start: number,
  end: number,
): void;

/**
 * A tree's leaf values (nLeaves triples of L: start and end positions in rows, value) added to
 * the margins M of the rows at positions [from, to) of rows.
 */
export function addLeaves(
  L: Float64Array,
  nLeaves: number,
  rows: Int32Array,
  from: number,
  to: number,
  M: Float64Array,
): void;

/**
 * The leaf values of a tree's unpartitioned last-level splits (nRoutes sextuples of RT: start,
 * end, feature, bin | missingLeft << 8, left value, right value), each row at positions
 * [from, to) adding its side's value to M[row * K + k] (C: the column-major bins).
 */
export function addRoutes(
  RT: Float64Array,
  nRoutes: number,
  rows: Int32Array,
  from: number,
  to: number,
  M: Float64Array,
  C: Uint8Array,
  nRows: number,
  K: number,
  k: number,
): void;
