/** The arrays of a complete-layout forest the kernel reads (flat.ts's CompleteForest has them). */
export interface KernelForest {
  depth: Int32Array;
  nodeOffset: Int32Array;
  leafOffset: Int32Array;
  threshold: Float64Array;
  word: Int32Array;
  leaf: Float64Array;
  /**
   * True when no node that sends missing values right has a threshold of +Infinity or NaN: then a
   * missing value reads as -Infinity or +Infinity by the node's side (twinRows) and the kernel
   * needs no missing-value test.
   */
  missingAsInfinity?: boolean;
  /**
   * Names the forest in the process (flatten numbers them): a thread keeps the last forest it
   * scored copied into its WebAssembly memory (score-wasm.mjs), found by this id.
   */
  id?: number;
}

/**
 * Rows [from, from + m) of data (nCols wide) as twin rows into `into` (2 x nCols per row): value
 * j at 2j with a missing value as -Infinity, at 2j + 1 with it as +Infinity.
 */
export function twinRows(
  data: Float64Array,
  from: number,
  m: number,
  nCols: number,
  into: Float64Array,
): void;

/**
 * out[i] += the forest's sum for rows [from, to) of data (nCols wide), trees in order: blocks of
 * rows, each tree walked by eight rows at a time.
 */
export function addCompleteRows(
  f: KernelForest,
  data: Float64Array,
  from: number,
  to: number,
  nCols: number,
  out: Float64Array,
): void;

/**
 * Score blocks of `block` rows of a job shared between threads until none is left (ctl[0]: next
 * block, ctl[1]: blocks finished). True when this thread finished the last block.
 */
export function scoreBlocks(
  f: KernelForest,
  data: Float64Array,
  nRows: number,
  nCols: number,
  out: Float64Array,
  ctl: Int32Array,
  block: number,
): boolean;
