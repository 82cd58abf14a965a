/** Doubles per task in a split task table (see splitTask). */
export const SPLIT_TASK: number;
/** Indices of the search parameters in a cfg Float64Array of CFG_SIZE doubles. */
export const CFG_LAMBDA: number;
export const CFG_MIN_CHILD: number;
export const CFG_MIN_WEIGHT: number;
export const CFG_MIN_GAIN: number;
export const CFG_CAT_SMOOTH: number;
export const CFG_CAT_L2: number;
export const CFG_MAX_CAT: number;
export const CFG_PER_GROUP: number;
export const CFG_ONEHOT: number;
export const CFG_SIZE: number;

type Ints = Int32Array | Uint8Array;

/** Zero the value bins and the missing bin of every feature f < F of a histogram. */
export function clearHist(hist: Float64Array, nb: Int32Array, F: number): void;

/** parent -= child over the value bins and the missing bin of features order[from:to). */
export function subtractFeatures(
  parent: Float64Array,
  child: Float64Array,
  order: Int32Array,
  from: number,
  to: number,
  nb: Int32Array,
): void;

/**
 * The best split over features order[from:to) of a node's histogram into out[o:o+7] (gain,
 * feature or -1, bin, missing left, GL, HL, categorical); a categorical best's left bins in mask.
 */
export function searchSplit(
  hist: Float64Array,
  order: Int32Array,
  from: number,
  to: number,
  nb: Int32Array,
  isCat: Ints,
  cfg: Float64Array,
  G: number,
  H: number,
  nNode: number,
  lo: Int32Array | null,
  hi: Int32Array | null,
  out: Float64Array,
  o: number,
  mask: Uint8Array,
): void;

/** Task i of a split task table (subtract, then search; see split-kernel.mjs). */
export function splitTask(
  slab: Float64Array,
  HS: number,
  T: Float64Array,
  i: number,
  order: Int32Array,
  nb: Int32Array,
  isCat: Ints,
  cfg: Float64Array,
  masks: Uint8Array,
): void;
