/**
 * Frame: Keel's columnar table. Numeric columns are Float64Array with NaN for missing;
 * categorical columns are Int32Array codes into a dictionary with -1 for missing; string
 * columns (ids, free text) are plain arrays with null for missing.
 */
import { KeelError } from '../core/errors.js';

export interface NumericColumn {
  readonly kind: 'numeric';
  readonly values: Float64Array;
}
export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly codes: Int32Array;
  readonly categories: readonly string[];
}
export interface StringColumn {
  readonly kind: 'string';
  readonly values: readonly (string | null)[];
}
export type Column = NumericColumn | CategoricalColumn | StringColumn;

/** A scalar as it appears in a record: numbers, category or string values, null for missing. */
export type Scalar = number | string | boolean | null;

export class Frame {
  readonly nRows: number;
  private readonly byName: Map<string, Column>;

  constructor(
    readonly names: readonly string[],
    columns: readonly Column[],
  ) {
    if (names.length !== columns.length) throw new Error('Frame: names and columns differ in length');
    this.byName = new Map();
    let n = -1;
    for (let i = 0; i < names.length; i++) {
      if (this.byName.has(names[i]))
        throw new KeelError('KEEL_E_PARSE', `duplicate column name "${names[i]}"`, { column: names[i] });
      const len = columnLength(columns[i]);
      if (n === -1) n = len;
      else if (len !== n) throw new Error(`Frame: column "${names[i]}" has ${len} rows, expected ${n}`);
      this.byName.set(names[i], columns[i]);
    }
    this.nRows = n === -1 ? 0 : n;
  }

  get nCols(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  col(name: string): Column {
    const c = this.byName.get(name);
    if (!c) throw new KeelError('KEEL_E_INPUT', `no column named "${name}"`, { column: name });
    return c;
  }

  numeric(name: string): Float64Array {
    const c = this.col(name);
    if (c.kind !== 'numeric')
      throw new KeelError('KEEL_E_INPUT', `column "${name}" is ${c.kind}, expected numeric`, {
        column: name,
      });
    return c.values;
  }

  categorical(name: string): CategoricalColumn {
    const c = this.col(name);
    if (c.kind !== 'categorical')
      throw new KeelError('KEEL_E_INPUT', `column "${name}" is ${c.kind}, expected categorical`, {
        column: name,
      });
    return c;
  }

  /** The value of one cell as a record would carry it (null for missing). */
  value(name: string, row: number): Scalar {
    return cellValue(this.col(name), row);
  }

  select(names: readonly string[]): Frame {
    return new Frame(
      names,
      names.map((n) => this.col(n)),
    );
  }

  drop(names: readonly string[]): Frame {
    const gone = new Set(names);
    return this.select(this.names.filter((n) => !gone.has(n)));
  }

  withColumn(name: string, column: Column): Frame {
    const names = this.names.filter((n) => n !== name);
    return new Frame([...names, name], [...names.map((n) => this.col(n)), column]);
  }

  /** The rows at the given indices, in that order. */
  take(indices: ArrayLike<number>): Frame {
    return new Frame(
      this.names,
      this.names.map((n) => takeColumn(this.col(n), indices)),
    );
  }

  /** Rows as plain objects (null for missing). */
  toRecords(start = 0, end = this.nRows): Record<string, Scalar>[] {
    const out: Record<string, Scalar>[] = [];
    for (let r = start; r < Math.min(end, this.nRows); r++) {
      const rec: Record<string, Scalar> = {};
      for (const n of this.names) rec[n] = cellValue(this.col(n), r);
      out.push(rec);
    }
    return out;
  }
}

export function columnLength(c: Column): number {
  return c.kind === 'categorical' ? c.codes.length : c.values.length;
}

export function cellValue(c: Column, row: number): Scalar {
  switch (c.kind) {
    case 'numeric': {
      const v = c.values[row];
      return Number.isNaN(v) ? null : v;
    }
    case 'categorical': {
      const code = c.codes[row];
      return code < 0 ? null : c.categories[code];
    }
    case 'string':
      return c.values[row];
  }
}

export function takeColumn(c: Column, indices: ArrayLike<number>): Column {
  const n = indices.length;
  switch (c.kind) {
    case 'numeric': {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = c.values[indices[i]];
      return { kind: 'numeric', values: v };
    }
    case 'categorical': {
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = c.codes[indices[i]];
      return { kind: 'categorical', codes, categories: c.categories };
    }
    case 'string': {
      const v: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) v[i] = c.values[indices[i]];
      return { kind: 'string', values: v };
    }
  }
}

/** Build a numeric column from numbers (null/undefined/NaN become missing). */
export function numericColumn(values: ArrayLike<number | null | undefined>): NumericColumn {
  const v = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    v[i] = x === null || x === undefined ? Number.NaN : x;
  }
  return { kind: 'numeric', values: v };
}

/**
 * Build a categorical column from strings (null/undefined become missing). With `categories`
 * the dictionary is fixed (values outside it are missing); otherwise categories are sorted.
 */
export function categoricalColumn(
  values: ArrayLike<string | null | undefined>,
  categories?: readonly string[],
): CategoricalColumn {
  let dict: readonly string[];
  if (categories) dict = categories;
  else {
    const seen = new Set<string>();
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (x !== null && x !== undefined) seen.add(x);
    }
    dict = [...seen].sort();
  }
  const index = new Map(dict.map((c, i) => [c, i]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    codes[i] = x === null || x === undefined ? -1 : (index.get(x) ?? -1);
  }
  return { kind: 'categorical', codes, categories: dict };
}

export function stringColumn(values: ArrayLike<string | null | undefined>): StringColumn {
  return { kind: 'string', values: Array.from(values, (x) => x ?? null) };
}
