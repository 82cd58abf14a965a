import type { KernelForest } from './score-kernel.mjs';

/** Rows per call of the WebAssembly walk. */
export const WASM_BLOCK: number;

/**
 * out[i] += the forest's sum for rows [from, to) of data (nCols wide), as the JavaScript kernel
 * for a forest with missingAsInfinity gives it, on this thread's WebAssembly instance (the forest
 * copied into its memory once per id). False, with nothing done, when the forest has no id, when
 * its copy would take over 64 MiB (the JavaScript kernel walks it on its shared arrays) or when
 * WebAssembly is not available.
 */
export function addRowsWasm(
  f: KernelForest,
  data: Float64Array,
  from: number,
  to: number,
  nCols: number,
  out: Float64Array,
): boolean;
