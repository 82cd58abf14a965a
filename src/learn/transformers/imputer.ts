/**
 * SimpleImputer: fills missing values per column with a statistic learned in fit (mean, median,
 * most frequent) or a constant, optionally adding a 0/1 `name=missing` indicator column for every
 * column that had missing values in fit (scikit-learn's add_indicator, features='missing-only';
 * indicators come after the imputed columns). Numeric columns stay numeric; category and string
 * columns (most_frequent or constant only) keep their kind. As in scikit-learn, a column with no
 * value at all in fit is dropped unless the strategy is 'constant' or keepEmptyFeatures is set
 * (then it is filled with 0, or 'missing_value' for categories).
 */
import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import type { Column, Frame } from '../../data/frame.js';
import {
  checkColumns,
  frameOf,
  meanOf,
  medianOf,
  mostFrequentOf,
  notFitted,
  numeric,
  present,
  type Transformer,
  type TransformerJSON,
} from './base.js';

export type ImputeStrategy = 'mean' | 'median' | 'most_frequent' | 'constant';

export interface SimpleImputerParams {
  strategy: ImputeStrategy;
  /** For 'constant': the fill (default 0 for numeric columns, 'missing_value' for categories). */
  fillValue?: number | string;
  addIndicator: boolean;
  keepEmptyFeatures: boolean;
}

export const simpleImputerDefaults: SimpleImputerParams = {
  strategy: 'mean',
  addIndicator: false,
  keepEmptyFeatures: false,
};

interface ImputedColumn {
  name: string;
  kind: 'numeric' | 'category';
  /** The fill value; null when the column is dropped (no value in fit). */
  fill: number | string | null;
  indicator: boolean;
}

export class SimpleImputer implements Transformer {
  readonly kind = 'simple_imputer';
  readonly params: SimpleImputerParams;
  columns_?: ImputedColumn[];

  constructor(params: Partial<SimpleImputerParams> = {}) {
    this.params = Object.freeze({ ...simpleImputerDefaults, ...params });
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  fit(frame: Frame): this {
    const { strategy, fillValue, keepEmptyFeatures } = this.params;
    const what = 'SimpleImputer';
    const cols: ImputedColumn[] = [];
    for (const name of frame.names) {
      const c = frame.col(name);
      if (c.kind === 'numeric') {
        if (typeof fillValue === 'string' && strategy === 'constant')
          throw new KeelError(
            'KEEL_E_INPUT',
            `${what}: fillValue "${fillValue}" is text but column "${name}" is numeric`,
            {
              column: name,
            },
          );
        const vals = present(c.values);
        let fill: number | null;
        if (strategy === 'constant') fill = typeof fillValue === 'number' ? fillValue : 0;
        else if (vals.length === 0) fill = keepEmptyFeatures ? 0 : null;
        else
          fill =
            strategy === 'mean'
              ? meanOf(vals)
              : strategy === 'median'
                ? medianOf(vals)
                : mostFrequentOf(vals);
        cols.push({
          name,
          kind: 'numeric',
          fill,
          indicator: this.params.addIndicator && vals.length < c.values.length,
        });
      } else {
        if (strategy === 'mean' || strategy === 'median')
          throw new KeelError(
            'KEEL_E_INPUT',
            `${what}: strategy '${strategy}' needs numbers but column "${name}" is ${c.kind}; use 'most_frequent' or 'constant'`,
            { column: name },
          );
        const vals: string[] = [];
        const n = c.kind === 'categorical' ? c.codes.length : c.values.length;
        for (let r = 0; r < n; r++) {
          const v =
            c.kind === 'categorical' ? (c.codes[r] >= 0 ? c.categories[c.codes[r]] : null) : c.values[r];
          if (v !== null) vals.push(v);
        }
        let fill: string | null;
        if (strategy === 'constant') fill = fillValue === undefined ? 'missing_value' : String(fillValue);
        else if (vals.length === 0) fill = keepEmptyFeatures ? 'missing_value' : null;
        else fill = mostFrequentOf(vals);
        cols.push({ name, kind: 'category', fill, indicator: this.params.addIndicator && vals.length < n });
      }
    }
    this.columns_ = cols;
    return this;
  }

  transform(frame: Frame): Frame {
    const cols = this.columns_ ?? notFitted('SimpleImputer');
    checkColumns(
      frame,
      cols.map((c) => c.name),
      'SimpleImputer',
    );
    const names: string[] = [];
    const out: Column[] = [];
    for (const s of cols) {
      if (s.fill === null) continue;
      names.push(s.name);
      out.push(fillColumn(frame.col(s.name), s));
    }
    for (const s of cols) {
      if (!s.indicator) continue;
      names.push(`${s.name}=missing`);
      out.push(numeric(missingMask(frame.col(s.name))));
    }
    return frameOf(names, out);
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  featureNamesOut(): string[] {
    const cols = this.columns_ ?? notFitted('SimpleImputer');
    return [
      ...cols.filter((c) => c.fill !== null).map((c) => c.name),
      ...cols.filter((c) => c.indicator).map((c) => `${c.name}=missing`),
    ];
  }

  toJSON(): TransformerJSON {
    return {
      kind: this.kind,
      params: this.getParams(),
      state: { columns: this.columns_ ?? notFitted('SimpleImputer') },
    };
  }

  static fromJSON(doc: TransformerJSON): SimpleImputer {
    const params = ParamsJSON.parse(doc.params);
    const state = StateJSON.parse(doc.state);
    const t = new SimpleImputer(params);
    t.columns_ = state.columns;
    return t;
  }
}

function fillColumn(c: Column, s: ImputedColumn): Column {
  if (s.kind === 'numeric') {
    if (c.kind !== 'numeric')
      throw new KeelError(
        'KEEL_E_INPUT',
        `SimpleImputer: column "${s.name}" was numeric in fit, got ${c.kind}`,
        {
          column: s.name,
        },
      );
    const fill = s.fill as number;
    return numeric(c.values.map((v) => (Number.isNaN(v) ? fill : v)));
  }
  const fill = s.fill as string;
  if (c.kind === 'categorical') {
    let at = c.categories.indexOf(fill);
    const categories = at >= 0 ? c.categories : [...c.categories, fill];
    if (at < 0) at = categories.length - 1;
    return { kind: 'categorical', categories, codes: c.codes.map((k) => (k >= 0 ? k : at)) };
  }
  if (c.kind === 'string') return { kind: 'string', values: c.values.map((v) => v ?? fill) };
  throw new KeelError(
    'KEEL_E_INPUT',
    `SimpleImputer: column "${s.name}" held categories in fit, got numbers`,
    {
      column: s.name,
    },
  );
}

function missingMask(c: Column): Float64Array {
  if (c.kind === 'numeric') return c.values.map((v) => (Number.isNaN(v) ? 1 : 0));
  if (c.kind === 'categorical') return Float64Array.from(c.codes, (k) => (k < 0 ? 1 : 0));
  return Float64Array.from(c.values, (v) => (v === null ? 1 : 0));
}

const ParamsJSON = z.object({
  strategy: z.enum(['mean', 'median', 'most_frequent', 'constant']),
  fillValue: z.union([z.number(), z.string()]).optional(),
  addIndicator: z.boolean(),
  keepEmptyFeatures: z.boolean(),
});
const StateJSON = z.object({
  columns: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['numeric', 'category']),
      fill: z.union([z.number(), z.string(), z.null()]),
      indicator: z.boolean(),
    }),
  ),
});
