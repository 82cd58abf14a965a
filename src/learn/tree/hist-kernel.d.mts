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
