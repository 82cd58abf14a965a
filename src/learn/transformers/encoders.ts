/**
 * OneHotEncoder and OrdinalEncoder over category (or string) columns. Categories are learned in
 * fit and sorted, as scikit-learn does. Missing values are never an error: one-hot gives all
 * zeros, ordinal gives `encodedMissingValue` (NaN by default). Unknown categories follow
 * `handleUnknown`; 'error' names the column, the value and the row.
 */
import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import type { Frame } from '../../data/frame.js';
import {
  categoryValues,
  checkColumns,
  frameOf,
  nanToNull,
  notFitted,
  nullToNaN,
  numeric,
  sortStrings,
  type Transformer,
  type TransformerJSON,
} from './base.js';

/** Row → position in `index`: ≥ 0 known, −1 missing, −2 unknown. Category columns map each code once. */
function lookup(frame: Frame, name: string, index: Map<string, number>, what: string): Int32Array {
  const c = frame.col(name);
  if (c.kind === 'categorical') {
    const byCode = Int32Array.from(c.categories, (cat) => index.get(cat) ?? -2);
    return c.codes.map((k) => (k >= 0 ? byCode[k] : -1));
  }
  const value = categoryValues(frame, name, what);
  return Int32Array.from({ length: frame.nRows }, (_, r) => {
    const v = value(r);
    return v === null ? -1 : (index.get(v) ?? -2);
  });
}

function unknownError(frame: Frame, name: string, pos: Int32Array, what: string): never {
  const row = pos.indexOf(-2);
  const value = categoryValues(frame, name, what)(row);
  throw new KeelError(
    'KEEL_E_INPUT',
    `${what}: column "${name}" has category "${value}" at row ${row + 1}, not seen in fit (handleUnknown: 'error')`,
    { column: name, row: row + 1 },
    { details: { value } },
  );
}

/** Value counts of one column's non-missing entries. */
function valueCounts(frame: Frame, name: string, what: string): Map<string, number> {
  const counts = new Map<string, number>();
  const c = frame.col(name);
  if (c.kind === 'categorical') {
    const k = new Int32Array(c.categories.length);
    for (const code of c.codes) if (code >= 0) k[code]++;
    c.categories.forEach((cat, i) => {
      if (k[i] > 0) counts.set(cat, (counts.get(cat) ?? 0) + k[i]);
    });
    return counts;
  }
  const value = categoryValues(frame, name, what);
  for (let r = 0; r < frame.nRows; r++) {
    const v = value(r);
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

// ------------------------------------------------------------------------------- one-hot

export interface OneHotEncoderParams {
  /**
   * An unseen category: 'error' throws, 'ignore' gives all zeros, 'infrequent_if_exist' counts it
   * in the column's infrequent group when there is one (else all zeros).
   */
  handleUnknown: 'error' | 'ignore' | 'infrequent_if_exist';
  /**
   * Categories seen fewer times than this (a count ≥ 1, or a fraction of the rows in (0, 1)) are
   * grouped into one `name=infrequent` column, placed last. Undefined: no grouping.
   */
  minFrequency?: number;
}

interface OneHotColumn {
  name: string;
  /** Frequent categories, sorted; one output column each. */
  categories: string[];
  /** Categories grouped into the `name=infrequent` column (sorted); empty: no such column. */
  infrequent: string[];
}

export class OneHotEncoder implements Transformer {
  readonly kind = 'one_hot_encoder';
  readonly params: OneHotEncoderParams;
  columns_?: OneHotColumn[];

  constructor(params: Partial<OneHotEncoderParams> = {}) {
    this.params = Object.freeze({ handleUnknown: 'error' as const, ...params });
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(frame: Frame): this {
    const { minFrequency } = this.params;
    if (
      minFrequency !== undefined &&
      !(minFrequency > 0 && (minFrequency < 1 || Number.isInteger(minFrequency)))
    )
      throw new KeelError(
        'KEEL_E_INPUT',
        `OneHotEncoder: minFrequency must be a whole count ≥ 1 or a fraction in (0, 1), got ${minFrequency}`,
      );
    const threshold =
      minFrequency === undefined ? 0 : minFrequency < 1 ? minFrequency * frame.nRows : minFrequency;
    this.columns_ = frame.names.map((name) => {
      const counts = valueCounts(frame, name, 'OneHotEncoder');
      const all = sortStrings(counts.keys());
      return {
        name,
        categories: all.filter((c) => counts.get(c)! >= threshold),
        infrequent: all.filter((c) => counts.get(c)! < threshold),
      };
    });
    return this;
  }

  transform(frame: Frame): Frame {
    const cols = this.columns_ ?? notFitted('OneHotEncoder');
    checkColumns(
      frame,
      cols.map((c) => c.name),
      'OneHotEncoder',
    );
    const names: string[] = [];
    const out: Float64Array[] = [];
    const n = frame.nRows;
    for (const s of cols) {
      const width = s.categories.length + (s.infrequent.length > 0 ? 1 : 0);
      const infrequentAt = s.infrequent.length > 0 ? s.categories.length : -1;
      const index = new Map<string, number>(s.categories.map((c, i) => [c, i]));
      for (const c of s.infrequent) index.set(c, infrequentAt);
      const pos = lookup(frame, s.name, index, 'OneHotEncoder');
      if (this.params.handleUnknown === 'error' && pos.includes(-2))
        unknownError(frame, s.name, pos, 'OneHotEncoder');
      const unknownTo = this.params.handleUnknown === 'infrequent_if_exist' ? infrequentAt : -1;
      const block = Array.from({ length: width }, () => new Float64Array(n));
      for (let r = 0; r < n; r++) {
        const k = pos[r] === -2 ? unknownTo : pos[r];
        if (k >= 0) block[k][r] = 1;
      }
      names.push(...outputNames(s));
      out.push(...block);
    }
    return frameOf(names, out.map(numeric));
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  featureNamesOut(): string[] {
    return (this.columns_ ?? notFitted('OneHotEncoder')).flatMap(outputNames);
  }

  toJSON(): TransformerJSON {
    return {
      kind: this.kind,
      params: this.getParams(),
      state: { columns: this.columns_ ?? notFitted('OneHotEncoder') },
    };
  }

  static fromJSON(doc: TransformerJSON): OneHotEncoder {
    const params = z
      .object({
        handleUnknown: z.enum(['error', 'ignore', 'infrequent_if_exist']),
        minFrequency: z.number().optional(),
      })
      .parse(doc.params);
    const state = z
      .object({
        columns: z.array(
          z.object({ name: z.string(), categories: z.array(z.string()), infrequent: z.array(z.string()) }),
        ),
      })
      .parse(doc.state);
    const t = new OneHotEncoder(params);
    t.columns_ = state.columns;
    return t;
  }
}

function outputNames(s: OneHotColumn): string[] {
  return [
    ...s.categories.map((c) => `${s.name}=${c}`),
    ...(s.infrequent.length > 0 ? [`${s.name}=infrequent`] : []),
  ];
}

// ------------------------------------------------------------------------------- ordinal

export interface OrdinalEncoderParams {
  /** 'error' throws on an unseen category; 'use_encoded_value' writes `unknownValue`. */
  handleUnknown: 'error' | 'use_encoded_value';
  /** The code of an unseen category (NaN allowed) with handleUnknown 'use_encoded_value'. */
  unknownValue: number;
  /** The code of a missing value. */
  encodedMissingValue: number;
}

export class OrdinalEncoder implements Transformer {
  readonly kind = 'ordinal_encoder';
  readonly params: OrdinalEncoderParams;
  columns_?: { name: string; categories: string[] }[];

  constructor(params: Partial<OrdinalEncoderParams> = {}) {
    this.params = Object.freeze({
      handleUnknown: 'error' as const,
      unknownValue: Number.NaN,
      encodedMissingValue: Number.NaN,
      ...params,
    });
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(frame: Frame): this {
    const { handleUnknown, unknownValue } = this.params;
    this.columns_ = frame.names.map((name) => {
      const categories = sortStrings(valueCounts(frame, name, 'OrdinalEncoder').keys());
      // as sklearn: an unknown code must not collide with a real category's code
      if (
        handleUnknown === 'use_encoded_value' &&
        Number.isInteger(unknownValue) &&
        unknownValue >= 0 &&
        unknownValue < categories.length
      )
        throw new KeelError(
          'KEEL_E_INPUT',
          `OrdinalEncoder: unknownValue ${unknownValue} is already the code of "${categories[unknownValue]}" in column "${name}"`,
          { column: name },
        );
      return { name, categories };
    });
    return this;
  }

  transform(frame: Frame): Frame {
    const cols = this.columns_ ?? notFitted('OrdinalEncoder');
    checkColumns(
      frame,
      cols.map((c) => c.name),
      'OrdinalEncoder',
    );
    const { unknownValue, encodedMissingValue } = this.params;
    return frameOf(
      cols.map((c) => c.name),
      cols.map((s) => {
        const pos = lookup(frame, s.name, new Map(s.categories.map((c, i) => [c, i])), 'OrdinalEncoder');
        if (this.params.handleUnknown === 'error' && pos.includes(-2))
          unknownError(frame, s.name, pos, 'OrdinalEncoder');
        return numeric(
          Float64Array.from(pos, (k) => (k >= 0 ? k : k === -1 ? encodedMissingValue : unknownValue)),
        );
      }),
    );
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  featureNamesOut(): string[] {
    return (this.columns_ ?? notFitted('OrdinalEncoder')).map((c) => c.name);
  }

  toJSON(): TransformerJSON {
    const p = this.params;
    return {
      kind: this.kind,
      params: {
        handleUnknown: p.handleUnknown,
        unknownValue: nanToNull(p.unknownValue),
        encodedMissingValue: nanToNull(p.encodedMissingValue),
      },
      state: { columns: this.columns_ ?? notFitted('OrdinalEncoder') },
    };
  }

  static fromJSON(doc: TransformerJSON): OrdinalEncoder {
    const p = z
      .object({
        handleUnknown: z.enum(['error', 'use_encoded_value']),
        unknownValue: z.number().nullable(),
        encodedMissingValue: z.number().nullable(),
      })
      .parse(doc.params);
    const state = z
      .object({ columns: z.array(z.object({ name: z.string(), categories: z.array(z.string()) })) })
      .parse(doc.state);
    const t = new OrdinalEncoder({
      handleUnknown: p.handleUnknown,
      unknownValue: nullToNaN(p.unknownValue),
      encodedMissingValue: nullToNaN(p.encodedMissingValue),
    });
    t.columns_ = state.columns;
    return t;
  }
}
