import type { ColumnProfile } from './profile.js';

/** A sorted copy of the values (no NaN among them), by bucket sort. */
export function sortedCopy(vals: Float64Array, depth?: number): Float64Array;

/** The profile of a numeric column (NaN is missing), binned on refEdges when given. */
export function numericColumnProfile(
  name: string,
  values: Float64Array,
  bins: number,
  refEdges: number[] | null,
): ColumnProfile;
