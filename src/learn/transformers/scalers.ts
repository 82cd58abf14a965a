/**
 * StandardScaler and MinMaxScaler over numeric columns, as scikit-learn 1.2 computes them:
 * statistics ignore missing values (NaN stays NaN), the standard deviation is the population one
 * (ddof 0), and a constant column gets a scale of 1 instead of a division by zero.
 */
import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import type { Frame } from '../../data/frame.js';
import {
  checkColumns,
  frameOf,
  notFitted,
  numeric,
  numericValues,
  present,
  type Transformer,
  type TransformerJSON,
} from './base.js';

export interface StandardScalerParams {
  withMean: boolean;
  withStd: boolean;
}

interface AffineState {
  columns: string[];
  /** output = (x − offset) / scale */
  offset: number[];
  scale: number[];
}

/** Shared by both scalers: a per-column affine map learned in fit. */
abstract class AffineScaler implements Transformer {
  abstract readonly kind: string;
  state_?: AffineState;

  abstract getParams(): Record<string, unknown>;
  protected abstract learn(values: number[]): { offset: number; scale: number };

  fit(frame: Frame): this {
    const columns = [...frame.names];
    const offset: number[] = [];
    const scale: number[] = [];
    for (const name of columns) {
      const vals = present(numericValues(frame, name, this.constructor.name));
      const s = vals.length === 0 ? { offset: 0, scale: 1 } : this.learn(vals);
      // + 0 turns -0 into 0: JSON has no -0, and the state must round-trip exactly
      offset.push(s.offset + 0);
      scale.push(s.scale + 0);
    }
    this.state_ = { columns, offset, scale };
    return this;
  }

  transform(frame: Frame): Frame {
    const s = this.state_ ?? notFitted(this.constructor.name);
    checkColumns(frame, s.columns, this.constructor.name);
    return frameOf(
      [...s.columns],
      s.columns.map((name, j) => {
        const o = s.offset[j];
        const k = s.scale[j];
        return numeric(
          numericValues(frame, name, this.constructor.name).map((v) => this.finish((v - o) / k)),
        );
      }),
    );
  }

  /** A last elementwise step (MinMaxScaler's clip). */
  protected finish(v: number): number {
    return v;
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  featureNamesOut(): string[] {
    return [...(this.state_ ?? notFitted(this.constructor.name)).columns];
  }

  toJSON(): TransformerJSON {
    return {
      kind: this.kind,
      params: this.getParams(),
      state: this.state_ ?? notFitted(this.constructor.name),
    };
  }
}

const AffineJSON = z
  .object({ columns: z.array(z.string()), offset: z.array(z.number()), scale: z.array(z.number()) })
  .refine((s) => s.offset.length === s.columns.length && s.scale.length === s.columns.length, {
    message: 'offset and scale need one entry per column',
  })
  .refine((s) => s.scale.every((k) => k !== 0), { message: 'a scale of 0' });

export class StandardScaler extends AffineScaler {
  readonly kind = 'standard_scaler';
  readonly params: StandardScalerParams;

  constructor(params: Partial<StandardScalerParams> = {}) {
    super();
    this.params = Object.freeze({ withMean: true, withStd: true, ...params });
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  protected learn(vals: number[]): { offset: number; scale: number } {
    const n = vals.length;
    let m = 0;
    for (const v of vals) m += v;
    m /= n;
    let ss = 0;
    let corr = 0;
    for (const v of vals) {
      ss += (v - m) ** 2;
      corr += v - m;
    }
    const variance = (ss - (corr * corr) / n) / n;
    // sklearn's _is_constant_feature: a variance within rounding error of 0 means constant
    const eps = Number.EPSILON;
    const constant = variance <= n * eps * variance + (n * m * eps) ** 2;
    return {
      offset: this.params.withMean ? m : 0,
      scale: this.params.withStd && !constant ? Math.sqrt(variance) : 1,
    };
  }

  /** The learned means (0 without withMean) and scales (standard deviations; 1 for constant columns). */
  get mean_(): number[] {
    return [...(this.state_ ?? notFitted('StandardScaler')).offset];
  }
  get scale_(): number[] {
    return [...(this.state_ ?? notFitted('StandardScaler')).scale];
  }

  static fromJSON(doc: TransformerJSON): StandardScaler {
    const t = new StandardScaler(z.object({ withMean: z.boolean(), withStd: z.boolean() }).parse(doc.params));
    t.state_ = AffineJSON.parse(doc.state);
    return t;
  }
}

export interface MinMaxScalerParams {
  featureRange: [number, number];
  /** Clip transformed values into featureRange (values outside the fit range would leave it). */
  clip: boolean;
}

export class MinMaxScaler extends AffineScaler {
  readonly kind = 'min_max_scaler';
  readonly params: MinMaxScalerParams;

  constructor(params: Partial<MinMaxScalerParams> = {}) {
    super();
    this.params = Object.freeze({ featureRange: [0, 1] as [number, number], clip: false, ...params });
  }

  getParams(): Record<string, unknown> {
    return { featureRange: [...this.params.featureRange], clip: this.params.clip };
  }

  override fit(frame: Frame): this {
    const [lo, hi] = this.params.featureRange;
    if (!(lo < hi))
      throw new KeelError(
        'KEEL_E_INPUT',
        `MinMaxScaler: featureRange must be [min, max] with min < max, got [${lo}, ${hi}]`,
      );
    return super.fit(frame);
  }

  protected learn(vals: number[]): { offset: number; scale: number } {
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (const v of vals) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const [lo, hi] = this.params.featureRange;
    let range = mx - mn;
    if (range < 10 * Number.EPSILON) range = 1; // sklearn's _handle_zeros_in_scale
    // (x − offset) / scale = x · (hi − lo) / range + lo − mn · (hi − lo) / range
    const scale = range / (hi - lo);
    return { offset: mn - lo * scale, scale };
  }

  protected override finish(v: number): number {
    if (!this.params.clip) return v;
    const [lo, hi] = this.params.featureRange;
    return Math.min(Math.max(v, lo), hi); // NaN stays NaN
  }

  static fromJSON(doc: TransformerJSON): MinMaxScaler {
    const p = z
      .object({ featureRange: z.tuple([z.number(), z.number()]), clip: z.boolean() })
      .parse(doc.params);
    const t = new MinMaxScaler(p);
    t.state_ = AffineJSON.parse(doc.state);
    return t;
  }
}
