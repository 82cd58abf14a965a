/**
 * What every transformer shares. A transformer takes a Frame and gives a Frame (so transformers
 * chain and compose), fits on the columns of the frame it is given (ColumnTransformer hands each
 * one its own columns, as scikit-learn does), and saves its learned state as plain JSON data.
 * Parameters are plain objects fixed at construction; `fit` validates and sets the learned
 * fields (ending in `_`); `transform` before `fit` throws KEEL_E_NOT_FITTED.
 */
import { KeelError } from '../../core/errors.js';
import { type Column, Frame, type NumericColumn } from '../../data/frame.js';
import type { Matrix } from '../types.js';

export interface Transformer {
  /** A short stable name used in the JSON form: 'standard_scaler', 'one_hot_encoder', … */
  readonly kind: string;
  getParams(): Record<string, unknown>;
  /** Learn from `frame` (and the target, for supervised encoders). Returns `this`. */
  fit(frame: Frame, y?: ArrayLike<number>): this;
  transform(frame: Frame): Frame;
  /**
   * fit then transform, except for transformers whose training output must differ from
   * `transform` of the same rows (TargetEncoder cross-fits).
   */
  fitTransform(frame: Frame, y?: ArrayLike<number>): Frame;
  /** Names of the output columns, in order. */
  featureNamesOut(): string[];
  /** `{ kind, params, state }`: plain data, read back by `transformerFromJSON`. */
  toJSON(): TransformerJSON;
}

export interface TransformerJSON {
  kind: string;
  params: Record<string, unknown>;
  state: unknown;
}

export function notFitted(what: string): never {
  throw new KeelError('KEEL_E_NOT_FITTED', `${what} is not fitted yet: call fit() first`);
}

/** The frame's columns must be exactly those seen in fit, in any order. */
export function checkColumns(frame: Frame, columns: readonly string[], what: string): void {
  for (const c of columns)
    if (!frame.has(c))
      throw new KeelError('KEEL_E_INPUT', `${what}: column "${c}" was seen in fit but is missing`, {
        column: c,
      });
}

export function numericValues(frame: Frame, name: string, what: string): Float64Array {
  const c = frame.col(name);
  if (c.kind !== 'numeric')
    throw new KeelError('KEEL_E_INPUT', `${what}: column "${name}" is ${c.kind}, expected numeric`, {
      column: name,
    });
  return c.values;
}

/** A category or string column as row → value (null for missing). Numeric columns are refused. */
export function categoryValues(frame: Frame, name: string, what: string): (row: number) => string | null {
  const c = frame.col(name);
  if (c.kind === 'categorical') {
    const { codes, categories } = c;
    return (r) => (codes[r] >= 0 ? categories[codes[r]] : null);
  }
  if (c.kind === 'string') return (r) => c.values[r];
  throw new KeelError(
    'KEEL_E_INPUT',
    `${what}: column "${name}" is numeric; encoders take category or string columns`,
    { column: name },
  );
}

export function numeric(values: Float64Array): NumericColumn {
  return { kind: 'numeric', values };
}

export function frameOf(names: string[], columns: Column[]): Frame {
  return new Frame(names, columns);
}

/** A frame of numeric columns as the row-major Matrix estimators take. */
export function frameToMatrix(frame: Frame): Matrix {
  const n = frame.nRows;
  const d = frame.nCols;
  const data = new Float64Array(n * d);
  frame.names.forEach((name, j) => {
    const v = numericValues(frame, name, 'frameToMatrix');
    for (let r = 0; r < n; r++) data[r * d + j] = v[r];
  });
  return { nRows: n, nCols: d, data, names: [...frame.names] };
}

// ------------------------------------------------------------ statistics over non-missing values

export function meanOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}

export function medianOf(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The most frequent value; ties go to the smallest, as scikit-learn's SimpleImputer. */
export function mostFrequentOf<T extends number | string>(v: readonly T[]): T {
  const counts = new Map<T, number>();
  for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best: T | undefined;
  let bestCount = -1;
  for (const [x, c] of counts)
    if (c > bestCount || (c === bestCount && best !== undefined && x < best)) {
      best = x;
      bestCount = c;
    }
  return best as T;
}

export function present(v: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i])) out.push(v[i]);
  return out;
}

/** JSON has no NaN: learned numbers that may be NaN are written as null. */
export const nanToNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
export const nullToNaN = (x: number | null): number => (x === null ? Number.NaN : x);

/** Categories sorted by code unit, as numpy sorts strings. */
export function sortStrings(v: Iterable<string>): string[] {
  return [...v].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
