/**
 * Upper bin edges of a feature from its non-missing sampled values (sorted in place) into out;
 * returns how many (the last is +Infinity).
 */
export function featureEdges(values: Float64Array, limit: number, out: Float64Array): number;

/** Features taken from the counter ctl[slot] until none of F are left: their edges (see bin-kernel.mjs). */
export function edgeTasks(
  ctl: Int32Array,
  slot: number,
  F: number,
  sample: Float64Array,
  stride: number,
  cnt: Int32Array,
  limit: number,
  edges: Float64Array,
  nEdges: Int32Array,
): void;
