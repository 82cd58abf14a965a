/**
 * FeaturePipeline: turns a Frame into the numeric Matrix estimators take, column by column.
 * Numeric columns (number, integer, boolean): impute (median by default) → standardize, plus a
 * `name=missing` indicator when training data had missing values. Category columns: one-hot over
 * the categories seen in training; a missing or unseen category is all zeros. String columns
 * (ids, free text) are not features. Learned state is plain data (toJSON/fromJSON).
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';
import type { ColumnSpec } from '../data/schema.js';
import { assertFitted } from './base.js';
import type { Matrix } from './types.js';

export interface FeaturePipelineParams {
  columns: ColumnSpec[];
  impute: 'mean' | 'median';
  scale: boolean;
  missingIndicator: boolean;
}

type NumericStep = {
  kind: 'numeric';
  column: string;
  fill: number;
  mean: number;
  std: number;
  indicator: boolean;
};
type OneHotStep = { kind: 'onehot'; column: string; categories: string[] };
type FittedStep = NumericStep | OneHotStep;

export class FeaturePipeline {
  readonly params: FeaturePipelineParams;
  steps_: FittedStep[] = [];
  featureNames_: string[] = [];
  private fitted = false;

  constructor(params: Partial<FeaturePipelineParams> & { columns: ColumnSpec[] }) {
    this.params = { impute: 'median', scale: true, missingIndicator: true, ...params };
  }

  fit(frame: Frame): this {
    const steps: FittedStep[] = [];
    for (const spec of this.params.columns) {
      if (spec.type === 'string') continue;
      const col = frame.col(spec.name);
      if (col.kind === 'numeric') {
        const vals: number[] = [];
        for (const v of col.values) if (!Number.isNaN(v)) vals.push(v);
        if (vals.length === 0) {
          steps.push({ kind: 'numeric', column: spec.name, fill: 0, mean: 0, std: 1, indicator: false });
          continue;
        }
        const fill = this.params.impute === 'mean' ? mean(vals) : median(vals);
        const n = col.values.length;
        let s = 0;
        let s2 = 0;
        for (const v of col.values) {
          const x = Number.isNaN(v) ? fill : v;
          s += x;
          s2 += x * x;
        }
        const m = s / n;
        const sd = Math.sqrt(Math.max(s2 / n - m * m, 0));
        steps.push({
          kind: 'numeric',
          column: spec.name,
          fill,
          mean: this.params.scale ? m : 0,
          std: this.params.scale && sd > 1e-12 ? sd : 1,
          indicator: this.params.missingIndicator && vals.length < n,
        });
      } else if (col.kind === 'categorical') {
        const counts = new Int32Array(col.categories.length);
        for (const c of col.codes) if (c >= 0) counts[c]++;
        const categories = col.categories.filter((_, i) => counts[i] > 0);
        steps.push({ kind: 'onehot', column: spec.name, categories: [...categories] });
      } else
        throw new KeelError('KEEL_E_INPUT', `column "${spec.name}" is declared ${spec.type} but holds text`, {
          column: spec.name,
        });
    }
    this.steps_ = steps;
    this.featureNames_ = steps.flatMap((s) =>
      s.kind === 'numeric'
        ? [s.column, ...(s.indicator ? [`${s.column}=missing`] : [])]
        : s.categories.map((c) => `${s.column}=${c}`),
    );
    this.fitted = true;
    return this;
  }

  transform(frame: Frame): Matrix {
    assertFitted(this.fitted, 'FeaturePipeline');
    const n = frame.nRows;
    const d = this.featureNames_.length;
    const data = new Float64Array(n * d);
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
      } else {
        if (col.kind !== 'categorical')
          throw new KeelError('KEEL_E_INPUT', `column "${s.column}" must be categorical`, {
            column: s.column,
          });
        const map = this.codeMap(s, col.categories);
        for (let r = 0; r < n; r++) {
          const code = col.codes[r];
          const k = code >= 0 ? map[code] : -1;
          if (k >= 0) data[r * d + j + k] = 1;
        }
        j += s.categories.length;
      }
    }
    return { nRows: n, nCols: d, data, names: this.featureNames_ };
  }

  /**
   * From a frame's category codes to one-hot positions, cached per (step, dictionary array):
   * serving builds every request's frame on the signature's `allowed` list, so the map is built
   * once per model and column, not per request.
   */
  private readonly codeMaps = new WeakMap<
    OneHotStep,
    { pos: Map<string, number>; byDict: WeakMap<readonly string[], Int32Array> }
  >();
  private codeMap(s: OneHotStep, dict: readonly string[]): Int32Array {
    let entry = this.codeMaps.get(s);
    if (!entry) {
      entry = { pos: new Map(s.categories.map((c, i) => [c, i])), byDict: new WeakMap() };
      this.codeMaps.set(s, entry);
    }
    let map = entry.byDict.get(dict);
    if (!map) {
      const pos = entry.pos;
      map = Int32Array.from(dict, (c) => pos.get(c) ?? -1);
      entry.byDict.set(dict, map);
    }
    return map;
  }

  fitTransform(frame: Frame): Matrix {
    return this.fit(frame).transform(frame);
  }

  toJSON(): unknown {
    assertFitted(this.fitted, 'FeaturePipeline');
    return {
      params: {
        impute: this.params.impute,
        scale: this.params.scale,
        missingIndicator: this.params.missingIndicator,
      },
      steps: this.steps_,
    };
  }

  static fromJSON(doc: unknown, columns: ColumnSpec[]): FeaturePipeline {
    const d = FeaturePipelineJSON.parse(doc);
    const p = new FeaturePipeline({ columns, ...d.params });
    p.steps_ = d.steps;
    p.featureNames_ = d.steps.flatMap((s) =>
      s.kind === 'numeric'
        ? [s.column, ...(s.indicator ? [`${s.column}=missing`] : [])]
        : s.categories.map((c) => `${s.column}=${c}`),
    );
    p.fitted = true;
    return p;
  }
}

const FeaturePipelineJSON = z.object({
  params: z.object({ impute: z.enum(['mean', 'median']), scale: z.boolean(), missingIndicator: z.boolean() }),
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
      z.object({ kind: z.literal('onehot'), column: z.string(), categories: z.array(z.string()) }),
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
