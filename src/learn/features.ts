/**
 * FeaturePipeline: turns a Frame into the numeric Matrix estimators take, column by column.
 * Numeric columns (number, integer, boolean): impute (median by default; mean, most frequent or
 * a constant on request) → scale (standardize by default, or min-max to [0, 1]), plus a
 * `name=missing` indicator when training data had missing values. Category columns: one-hot over
 * the categories seen in training by default (a missing or unseen category is all zeros); on
 * request unseen categories are an error, rare ones are grouped into `name=infrequent`, or the
 * column is encoded as one ordinal or target-encoded number instead. String columns (ids, free
 * text) are not features. Learned state is plain data (toJSON/fromJSON); documents written
 * before the optional parameters existed read back exactly as before.
 *
 * The same operations exist as standalone, composable transformers in ./transformers/; this
 * class keeps the compact per-column form that saved models carry.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';
import type { ColumnSpec } from '../data/schema.js';
import { assertFitted } from './base.js';
import { mostFrequentOf } from './transformers/base.js';
import { TargetEncoder } from './transformers/target-encoder.js';
import type { Matrix } from './types.js';

export interface FeaturePipelineParams {
  columns: ColumnSpec[];
  impute: 'mean' | 'median' | 'most_frequent' | 'constant';
  /** The fill of impute 'constant' (default 0). */
  fillValue?: number;
  scale: boolean;
  /** How `scale` scales: 'standard' (default: zero mean, unit variance) or 'minmax' (to [0, 1]). */
  scaler?: 'standard' | 'minmax';
  missingIndicator: boolean;
  /** How category columns become numbers: 'onehot' (default), 'ordinal' or 'target' (needs y in fit). */
  encoding?: 'onehot' | 'ordinal' | 'target';
  /**
   * An unseen category: 'ignore' (default: all zeros for one-hot, `unknownValue` for ordinal),
   * 'error', or 'infrequent_if_exist' (one-hot: counted as infrequent when that group exists).
   */
  handleUnknown?: 'ignore' | 'error' | 'infrequent_if_exist';
  /** One-hot: categories seen fewer times (a count ≥ 1, or a fraction of rows in (0, 1)) share one `name=infrequent` column. */
  minFrequency?: number;
  /** Ordinal: the code of a missing or unseen category (default −1). */
  unknownValue?: number;
  /** Target encoding: shrinkage, 'auto' (default) or a fixed m. */
  targetSmooth?: 'auto' | number;
  /** Target encoding: folds of the cross-fitting in fitTransform (default 5). */
  targetCv?: number;
  /** Target encoding: the seed of the fold assignment (default 0). */
  seed?: number;
}

type NumericStep = {
  kind: 'numeric';
  column: string;
  fill: number;
  mean: number;
  std: number;
  indicator: boolean;
};
type OneHotStep = {
  kind: 'onehot';
  column: string;
  categories: string[];
  /** Categories sharing the trailing `column=infrequent` output (absent in older documents). */
  infrequent?: string[];
  handleUnknown?: 'ignore' | 'error' | 'infrequent_if_exist';
};
type OrdinalStep = {
  kind: 'ordinal';
  column: string;
  categories: string[];
  unknownValue: number;
  handleUnknown: 'ignore' | 'error';
};
type TargetStep = {
  kind: 'target';
  column: string;
  categories: string[];
  encodings: number[];
  /** The training target mean: the value of missing and unseen categories. */
  fallback: number;
};
type FittedStep = NumericStep | OneHotStep | OrdinalStep | TargetStep;

function stepNames(s: FittedStep): string[] {
  switch (s.kind) {
    case 'numeric':
      return [s.column, ...(s.indicator ? [`${s.column}=missing`] : [])];
    case 'onehot':
      return [
        ...s.categories.map((c) => `${s.column}=${c}`),
        ...(s.infrequent && s.infrequent.length > 0 ? [`${s.column}=infrequent`] : []),
      ];
    default:
      return [s.column];
  }
}

function oneHotWidth(s: OneHotStep): number {
  return s.categories.length + (s.infrequent && s.infrequent.length > 0 ? 1 : 0);
}

export class FeaturePipeline {
  readonly params: FeaturePipelineParams;
  steps_: FittedStep[] = [];
  featureNames_: string[] = [];
  private fitted = false;

  constructor(params: Partial<FeaturePipelineParams> & { columns: ColumnSpec[] }) {
    this.params = { impute: 'median', scale: true, missingIndicator: true, ...params };
  }

  /** Learn every column's state. `y` (0/1 or numeric targets, one per row) is needed only by encoding 'target'. */
  fit(frame: Frame, y?: ArrayLike<number>): this {
    const p = this.params;
    if (
      p.minFrequency !== undefined &&
      !(p.minFrequency > 0 && (p.minFrequency < 1 || Number.isInteger(p.minFrequency)))
    )
      throw new KeelError(
        'KEEL_E_INPUT',
        `FeaturePipeline: minFrequency must be a whole count ≥ 1 or a fraction in (0, 1), got ${p.minFrequency}`,
      );
    if (p.encoding === 'target' && !y)
      throw new KeelError(
        'KEEL_E_TARGET',
        "FeaturePipeline: encoding 'target' needs the target: fit(frame, y)",
      );
    if (p.encoding === 'ordinal' && p.handleUnknown === 'infrequent_if_exist')
      throw new KeelError(
        'KEEL_E_INPUT',
        "FeaturePipeline: handleUnknown 'infrequent_if_exist' applies to one-hot encoding only",
      );
    const steps: FittedStep[] = [];
    for (const spec of p.columns) {
      if (spec.type === 'string') continue;
      const col = frame.col(spec.name);
      if (col.kind === 'numeric') steps.push(this.fitNumeric(spec.name, col.values));
      else if (col.kind === 'categorical')
        steps.push(this.fitCategorical(frame, spec.name, col.codes, col.categories, y));
      else
        throw new KeelError('KEEL_E_INPUT', `column "${spec.name}" is declared ${spec.type} but holds text`, {
          column: spec.name,
        });
    }
    this.steps_ = steps;
    this.featureNames_ = steps.flatMap(stepNames);
    this.fitted = true;
    return this;
  }

  /**
   * The output features that hold category codes (encoding 'ordinal': codes 0..k-1 in sorted
   * category order, the unknown value for missing or unseen), for a gradient boosting model's
   * `categoricalFeatures`, so those columns get native category-set splits:
   * `new GradientBoostingClassifier({ categoricalFeatures: pipeline.categoricalFeatures() })`.
   * With the default unknownValue −1, missing and unseen categories are missing to the trees.
   */
  categoricalFeatures(): string[] {
    assertFitted(this.fitted, 'FeaturePipeline');
    return this.steps_.filter((s) => s.kind === 'ordinal').map((s) => s.column);
  }

  private fitNumeric(column: string, values: Float64Array): NumericStep {
    const p = this.params;
    const vals: number[] = [];
    for (const v of values) if (!Number.isNaN(v)) vals.push(v);
    if (vals.length === 0) return { kind: 'numeric', column, fill: 0, mean: 0, std: 1, indicator: false };
    const fill =
      p.impute === 'mean'
        ? mean(vals)
        : p.impute === 'median'
          ? median(vals)
          : p.impute === 'most_frequent'
            ? mostFrequentOf(vals)
            : (p.fillValue ?? 0);
    const n = values.length;
    let center = 0;
    let spread = 1;
    if (p.scale && p.scaler === 'minmax') {
      let mn = Number.POSITIVE_INFINITY;
      let mx = Number.NEGATIVE_INFINITY;
      for (const v of values) {
        const x = Number.isNaN(v) ? fill : v;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
      center = mn;
      spread = mx - mn > 1e-12 ? mx - mn : 1;
    } else if (p.scale) {
      let s = 0;
      let s2 = 0;
      for (const v of values) {
        const x = Number.isNaN(v) ? fill : v;
        s += x;
        s2 += x * x;
      }
      const m = s / n;
      const sd = Math.sqrt(Math.max(s2 / n - m * m, 0));
      center = m;
      spread = sd > 1e-12 ? sd : 1;
    }
    return {
      kind: 'numeric',
      column,
      fill,
      mean: center,
      std: spread,
      indicator: p.missingIndicator && vals.length < n,
    };
  }

  private fitCategorical(
    frame: Frame,
    column: string,
    codes: Int32Array,
    dict: readonly string[],
    y: ArrayLike<number> | undefined,
  ): FittedStep {
    const p = this.params;
    const counts = new Int32Array(dict.length);
    for (const c of codes) if (c >= 0) counts[c]++;
    const seen = dict.filter((_, i) => counts[i] > 0);
    if (p.encoding === 'ordinal') {
      return {
        kind: 'ordinal',
        column,
        categories: sorted(seen),
        unknownValue: p.unknownValue ?? -1,
        handleUnknown: p.handleUnknown === 'error' ? 'error' : 'ignore',
      };
    }
    if (p.encoding === 'target') {
      const enc = new TargetEncoder(this.targetParams()).fit(frame.select([column]), y);
      const learned = enc.columns_![0];
      return {
        kind: 'target',
        column,
        categories: learned.categories,
        encodings: learned.encodings,
        fallback: enc.targetMean_,
      };
    }
    // one-hot: the classic form (the frame's dictionary order, no extra fields) unless asked otherwise
    const step: OneHotStep = { kind: 'onehot', column, categories: [...seen] };
    if (p.minFrequency !== undefined) {
      const threshold = p.minFrequency < 1 ? p.minFrequency * frame.nRows : p.minFrequency;
      step.categories = dict.filter((_, i) => counts[i] > 0 && counts[i] >= threshold);
      step.infrequent = dict.filter((_, i) => counts[i] > 0 && counts[i] < threshold);
    }
    if (p.handleUnknown !== undefined && p.handleUnknown !== 'ignore') step.handleUnknown = p.handleUnknown;
    return step;
  }

  private targetParams() {
    const p = this.params;
    return { smooth: p.targetSmooth ?? 'auto', cv: p.targetCv ?? 5, seed: p.seed ?? 0 };
  }

  /**
   * The frame's features. `into` (at least rows x features long) takes the values instead of a
   * new array (it is cleared first): e.g. shared memory that scoring threads read without a copy.
   */
  transform(frame: Frame, into?: Float64Array): Matrix {
    assertFitted(this.fitted, 'FeaturePipeline');
    const n = frame.nRows;
    const d = this.featureNames_.length;
    const data = into ? into.subarray(0, n * d).fill(0) : new Float64Array(n * d);
    let j = 0;
    for (const s of this.steps_) {
      const col = frame.col(s.column);
      if (s.kind === 'numeric') {
        if (col.kind !== 'numeric')
          throw new KeelError('KEEL_E_INPUT', `column "${s.column}" must be numeric`, { column: s.column });
        const v = col.values;
        for (let r = 0; r < n; r++) {
          const miss = Number.isNaN(v[r]);
          data[r * d + j] = ((miss ? s.fill : v[r]) - s.mean) / s.std;
          if (s.indicator) data[r * d + j + 1] = miss ? 1 : 0;
        }
        j += s.indicator ? 2 : 1;
        continue;
      }
      if (col.kind !== 'categorical')
        throw new KeelError('KEEL_E_INPUT', `column "${s.column}" must be categorical`, {
          column: s.column,
        });
      const map = this.codeMap(s, col.categories);
      const codes = col.codes;
      if (s.kind === 'onehot') {
        for (let r = 0; r < n; r++) {
          const k = codes[r] >= 0 ? map[codes[r]] : -1;
          if (k >= 0) data[r * d + j + k] = 1;
          else if (k === UNKNOWN) unknownCategory(s.column, col.categories[codes[r]], r);
        }
        j += oneHotWidth(s);
      } else if (s.kind === 'ordinal') {
        for (let r = 0; r < n; r++) {
          const k = codes[r] >= 0 ? map[codes[r]] : -1;
          if (k === UNKNOWN) unknownCategory(s.column, col.categories[codes[r]], r);
          data[r * d + j] = k >= 0 ? k : s.unknownValue;
        }
        j += 1;
      } else {
        const enc = s.encodings;
        for (let r = 0; r < n; r++) {
          const k = codes[r] >= 0 ? map[codes[r]] : -1;
          data[r * d + j] = k >= 0 ? enc[k] : s.fallback;
        }
        j += 1;
      }
    }
    return { nRows: n, nCols: d, data, names: this.featureNames_ };
  }

  /**
   * From a frame's category codes to output positions, cached per (step, dictionary array):
   * serving builds every request's frame on the signature's `allowed` list, so the map is built
   * once per model and column, not per request. A category not seen in training maps to where
   * handleUnknown sends it: −1 (nothing; ordinal/target: their unknown value), the one-hot
   * infrequent column, or UNKNOWN (an error naming it).
   */
  private readonly codeMaps = new WeakMap<
    Exclude<FittedStep, NumericStep>,
    { pos: Map<string, number>; byDict: WeakMap<readonly string[], Int32Array> }
  >();
  private codeMap(s: Exclude<FittedStep, NumericStep>, dict: readonly string[]): Int32Array {
    let entry = this.codeMaps.get(s);
    if (!entry) {
      const pos = new Map(s.categories.map((c, i) => [c, i]));
      if (s.kind === 'onehot') for (const c of s.infrequent ?? []) pos.set(c, s.categories.length);
      entry = { pos, byDict: new WeakMap() };
      this.codeMaps.set(s, entry);
    }
    let map = entry.byDict.get(dict);
    if (!map) {
      const pos = entry.pos;
      const unknownTo = unknownPosition(s);
      map = Int32Array.from(dict, (c) => pos.get(c) ?? unknownTo);
      entry.byDict.set(dict, map);
    }
    return map;
  }

  /**
   * fit then transform; with encoding 'target' the training rows' target columns are
   * cross-fitted (each fold encoded by the other folds), so a row's own target never leaks in.
   */
  fitTransform(frame: Frame, y?: ArrayLike<number>): Matrix {
    const m = this.fit(frame, y).transform(frame);
    if (this.params.encoding !== 'target') return m;
    let j = 0;
    for (const s of this.steps_) {
      if (s.kind === 'target') {
        const cross = new TargetEncoder(this.targetParams())
          .fitTransform(frame.select([s.column]), y)
          .numeric(s.column);
        for (let r = 0; r < m.nRows; r++) m.data[r * m.nCols + j] = cross[r];
      }
      j += s.kind === 'numeric' ? (s.indicator ? 2 : 1) : s.kind === 'onehot' ? oneHotWidth(s) : 1;
    }
    return m;
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'FeaturePipeline');
    const p = this.params;
    const optional = {
      fillValue: p.fillValue,
      scaler: p.scaler,
      encoding: p.encoding,
      handleUnknown: p.handleUnknown,
      minFrequency: p.minFrequency,
      unknownValue: p.unknownValue,
      targetSmooth: p.targetSmooth,
      targetCv: p.targetCv,
      seed: p.seed,
    };
    return {
      params: {
        impute: p.impute,
        scale: p.scale,
        missingIndicator: p.missingIndicator,
        // only the optional parameters that were set: a default pipeline writes the same document as before
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      },
      steps: this.steps_,
    };
  }

  static fromJSON(doc: unknown, columns: ColumnSpec[]): FeaturePipeline {
    const d = FeaturePipelineJSON.parse(doc);
    const p = new FeaturePipeline({ columns, ...d.params });
    p.steps_ = d.steps;
    p.featureNames_ = d.steps.flatMap(stepNames);
    p.fitted = true;
    return p;
  }
}

function unknownCategory(column: string, value: string, r: number): never {
  throw new KeelError(
    'KEEL_E_INPUT',
    `column "${column}" has category "${value}" at row ${r + 1}, not seen in training (handleUnknown: 'error')`,
    { column, row: r + 1 },
    { details: { value } },
  );
}

const UNKNOWN = -2;

function unknownPosition(s: Exclude<FittedStep, NumericStep>): number {
  if (s.kind === 'target') return -1;
  if (s.handleUnknown === 'error') return UNKNOWN;
  if (
    s.kind === 'onehot' &&
    s.handleUnknown === 'infrequent_if_exist' &&
    oneHotWidth(s) > s.categories.length
  )
    return s.categories.length;
  return -1;
}

const FeaturePipelineJSON = z.object({
  params: z.object({
    impute: z.enum(['mean', 'median', 'most_frequent', 'constant']),
    scale: z.boolean(),
    missingIndicator: z.boolean(),
    fillValue: z.number().optional(),
    scaler: z.enum(['standard', 'minmax']).optional(),
    encoding: z.enum(['onehot', 'ordinal', 'target']).optional(),
    handleUnknown: z.enum(['ignore', 'error', 'infrequent_if_exist']).optional(),
    minFrequency: z.number().positive().optional(),
    unknownValue: z.number().optional(),
    targetSmooth: z.union([z.literal('auto'), z.number().nonnegative()]).optional(),
    targetCv: z.number().int().min(2).optional(),
    seed: z.number().optional(),
  }),
  steps: z.array(
    z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('numeric'),
        column: z.string(),
        fill: z.number(),
        mean: z.number(),
        std: z.number().positive(),
        indicator: z.boolean(),
      }),
      z.object({
        kind: z.literal('onehot'),
        column: z.string(),
        categories: z.array(z.string()),
        infrequent: z.array(z.string()).optional(),
        handleUnknown: z.enum(['ignore', 'error', 'infrequent_if_exist']).optional(),
      }),
      z.object({
        kind: z.literal('ordinal'),
        column: z.string(),
        categories: z.array(z.string()),
        unknownValue: z.number(),
        handleUnknown: z.enum(['ignore', 'error']),
      }),
      z
        .object({
          kind: z.literal('target'),
          column: z.string(),
          categories: z.array(z.string()),
          encodings: z.array(z.number()),
          fallback: z.number(),
        })
        .refine((s) => s.encodings.length === s.categories.length, {
          message: 'a target step needs one encoding per category',
        }),
    ]),
  ),
});

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function median(v: number[]): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sorted(v: readonly string[]): string[] {
  return [...v].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
