import { KeelError } from '../core/errors.js';
import type { Matrix } from './types.js';

export function assertFitted(fitted: boolean, what: string): void {
  if (!fitted) throw new KeelError('KEEL_E_NOT_FITTED', `${what} is not fitted yet: call fit() first`);
}

/** Checks shared by every classifier's fit: shapes, a 0/1 target with both classes. */
export function checkXy(X: Matrix, y: Float64Array, what: string): void {
  checkRows(X, y, what);
  let pos = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1)
      throw new KeelError('KEEL_E_TARGET', `${what}: y must hold 0 and 1, found ${y[i]} at row ${i + 1}`, {
        row: i + 1,
      });
    pos += y[i];
  }
  if (pos === 0 || pos === y.length)
    throw new KeelError(
      'KEEL_E_TARGET',
      `${what}: the target has a single class (${pos === 0 ? 'all 0' : 'all 1'}); a classifier needs both`,
    );
}

export function checkWidth(X: Matrix, nFeatures: number, what: string): void {
  if (X.nCols !== nFeatures)
    throw new KeelError('KEEL_E_INPUT', `${what} was fitted on ${nFeatures} features, got ${X.nCols}`);
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * A classifier's predictProba output as n×K class probabilities: binary P(y = 1) per row becomes
 * [1 − p, p]; K > 2 probabilities (already n×K, row-major) are taken as they are.
 */
export function probaMatrix(p: Float64Array, nRows: number, K: number): Matrix {
  const names = Array.from({ length: K }, (_, k) => String(k));
  if (K > 2) return { nRows, nCols: K, data: p, names };
  const data = new Float64Array(nRows * 2);
  for (let i = 0; i < nRows; i++) {
    data[2 * i] = 1 - p[i];
    data[2 * i + 1] = p[i];
  }
  return { nRows, nCols: 2, data, names };
}

/** The most probable class per row of n×K probabilities (the lowest class among equals). */
export function mostProbable(P: Matrix): Float64Array {
  const out = new Float64Array(P.nRows);
  for (let i = 0; i < P.nRows; i++) {
    let best = 0;
    for (let k = 1; k < P.nCols; k++) if (P.data[i * P.nCols + k] > P.data[i * P.nCols + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** A class weighting: 'balanced' or a weight per class label ("0", "1", ...). */
export type ClassWeight = 'balanced' | Record<string, number>;

/**
 * Per-class weights from a classWeight parameter (scikit-learn's class_weight): 'balanced' gives
 * n / (K · count of the class), a map gives its weights (absent classes 1); null gives null.
 */
export function classWeights(
  cw: ClassWeight | null | undefined,
  y: Float64Array,
  K: number,
  what: string,
): Float64Array | null {
  if (cw === null || cw === undefined) return null;
  const w = new Float64Array(K).fill(1);
  if (cw === 'balanced') {
    const counts = new Float64Array(K);
    for (let i = 0; i < y.length; i++) counts[y[i]]++;
    for (let k = 0; k < K; k++) w[k] = counts[k] > 0 ? y.length / (K * counts[k]) : 1;
    return w;
  }
  if (typeof cw !== 'object')
    throw new KeelError('KEEL_E_USAGE', `${what}: classWeight must be 'balanced', a map or null`);
  for (const [label, v] of Object.entries(cw)) {
    const k = Number(label);
    if (!(Number.isInteger(k) && k >= 0 && k < K))
      throw new KeelError(
        'KEEL_E_USAGE',
        `${what}: classWeight names class "${label}", the target has 0..${K - 1}`,
      );
    if (!(v > 0) || !Number.isFinite(v))
      throw new KeelError('KEEL_E_USAGE', `${what}: classWeight of class ${label} must be > 0, got ${v}`);
    w[k] = v;
  }
  return w;
}

/** Class labels 0..K-1 (every class present, at least two), or a clear error. */
export function checkClasses(X: Matrix, y: Float64Array, what: string): number {
  checkRows(X, y, what);
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!(Number.isInteger(v) && v >= 0 && v < 1024))
      throw new KeelError(
        'KEEL_E_TARGET',
        `${what}: y must hold class labels 0, 1, 2, ...; found ${v} at row ${i + 1}`,
        { row: i + 1 },
      );
    if (v > max) max = v;
  }
  const K = max + 1;
  const counts = new Int32Array(K);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  const present = counts.filter((c) => c > 0).length;
  if (present < 2)
    throw new KeelError(
      'KEEL_E_TARGET',
      `${what}: the target has a single class (all ${y[0]}); a classifier needs at least two`,
    );
  const absent = Array.from(counts.keys()).filter((k) => counts[k] === 0);
  if (absent.length > 0)
    throw new KeelError(
      'KEEL_E_TARGET',
      `${what}: labels must be 0..${K - 1} with every class present; no row has class ${absent.join(', ')}`,
    );
  return K;
}

/** X and y of the same length, at least one row. */
export function checkRows(X: Matrix, y: Float64Array, what: string): void {
  if (X.nRows !== y.length)
    throw new KeelError('KEEL_E_INPUT', `${what}: X has ${X.nRows} rows but y has ${y.length}`);
  if (X.nRows === 0) throw new KeelError('KEEL_E_INPUT', `${what}: no training rows`);
}
