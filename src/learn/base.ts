import { KeelError } from '../core/errors.js';
import type { Matrix } from './types.js';

export function assertFitted(fitted: boolean, what: string): void {
  if (!fitted) throw new KeelError('KEEL_E_NOT_FITTED', `${what} is not fitted yet: call fit() first`);
}

/** Checks shared by every classifier's fit: shapes, a 0/1 target with both classes. */
export function checkXy(X: Matrix, y: Float64Array, what: string): void {
  if (X.nRows !== y.length)
    throw new KeelError('KEEL_E_INPUT', `${what}: X has ${X.nRows} rows but y has ${y.length}`);
  if (X.nRows === 0) throw new KeelError('KEEL_E_INPUT', `${what}: no training rows`);
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
