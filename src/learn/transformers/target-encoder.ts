/**
 * TargetEncoder: replaces each category by a shrunk mean of the target over its rows (binary 0/1
 * or continuous targets), as scikit-learn 1.3's TargetEncoder does:
 *
 *   smooth = m (a number):  enc = (Σ y_c + m · ȳ) / (n_c + m)
 *   smooth = 'auto':        λ = n_c · var(y) / (n_c · var(y) + var_c(y)),  enc = λ · ȳ_c + (1 − λ) · ȳ
 *
 * `fit` learns encodings from all rows and `transform` applies them. `fitTransform` cross-fits:
 * the rows are split into `cv` folds (stratified for a binary target, seeded) and each fold is
 * encoded with encodings learned on the other folds, so a row's own target never leaks into its
 * training feature. Missing and unseen categories get the target mean ȳ.
 */
import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import type { Frame } from '../../data/frame.js';
import {
  categoryValues,
  checkColumns,
  frameOf,
  notFitted,
  numeric,
  sortStrings,
  type Transformer,
  type TransformerJSON,
} from './base.js';

export interface TargetEncoderParams {
  smooth: 'auto' | number;
  /** Folds for the cross-fitting of fitTransform (≥ 2). */
  cv: number;
  seed: number;
}

interface TargetColumn {
  name: string;
  categories: string[];
  encodings: number[];
}

export class TargetEncoder implements Transformer {
  readonly kind = 'target_encoder';
  readonly params: TargetEncoderParams;
  columns_?: TargetColumn[];
  targetMean_ = Number.NaN;

  constructor(params: Partial<TargetEncoderParams> = {}) {
    this.params = Object.freeze({ smooth: 'auto' as const, cv: 5, seed: 0, ...params });
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  private check(frame: Frame, y: ArrayLike<number> | undefined): ArrayLike<number> {
    if (!y) throw new KeelError('KEEL_E_TARGET', 'TargetEncoder: fit needs the target y');
    if (y.length !== frame.nRows)
      throw new KeelError('KEEL_E_TARGET', `TargetEncoder: ${frame.nRows} rows but ${y.length} targets`);
    if (frame.nRows === 0) throw new KeelError('KEEL_E_INPUT', 'TargetEncoder: no rows');
    for (let i = 0; i < y.length; i++)
      if (!Number.isFinite(y[i]))
        throw new KeelError(
          'KEEL_E_TARGET',
          `TargetEncoder: target ${y[i]} at row ${i + 1} is not a finite number`,
          {
            row: i + 1,
          },
        );
    const { smooth, cv } = this.params;
    if (smooth !== 'auto' && !(smooth >= 0))
      throw new KeelError(
        'KEEL_E_INPUT',
        `TargetEncoder: smooth must be 'auto' or a number ≥ 0, got ${smooth}`,
      );
    if (!Number.isInteger(cv) || cv < 2)
      throw new KeelError('KEEL_E_INPUT', `TargetEncoder: cv must be a whole number ≥ 2, got ${cv}`);
    return y;
  }

  fit(frame: Frame, y?: ArrayLike<number>): this {
    const target = this.check(frame, y);
    const all = Int32Array.from({ length: frame.nRows }, (_, i) => i);
    this.targetMean_ = mean(target, all);
    this.columns_ = frame.names.map((name) => learn(frame, name, target, all, this.params.smooth));
    return this;
  }

  transform(frame: Frame): Frame {
    const cols = this.columns_ ?? notFitted('TargetEncoder');
    checkColumns(
      frame,
      cols.map((c) => c.name),
      'TargetEncoder',
    );
    return frameOf(
      cols.map((c) => c.name),
      cols.map((c) => numeric(encode(frame, c, this.targetMean_))),
    );
  }

  /** Cross-fitted encodings of the training rows; the encoder is also fitted on all rows for later transforms. */
  fitTransform(frame: Frame, y?: ArrayLike<number>): Frame {
    this.fit(frame, y);
    const target = y as ArrayLike<number>;
    const folds = foldsOf(target, this.params.cv, this.params.seed);
    const n = frame.nRows;
    const out = frame.names.map(() => new Float64Array(n));
    for (let f = 0; f < this.params.cv; f++) {
      const train: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < n; i++) (folds[i] === f ? held : train).push(i);
      if (held.length === 0) continue;
      const trainIdx = Int32Array.from(train);
      const prior = mean(target, trainIdx);
      const heldFrame = frame.take(held);
      frame.names.forEach((name, j) => {
        const col = learn(frame, name, target, trainIdx, this.params.smooth);
        const enc = encode(heldFrame, col, prior);
        held.forEach((row, k) => {
          out[j][row] = enc[k];
        });
      });
    }
    return frameOf([...frame.names], out.map(numeric));
  }

  featureNamesOut(): string[] {
    return (this.columns_ ?? notFitted('TargetEncoder')).map((c) => c.name);
  }

  toJSON(): TransformerJSON {
    return {
      kind: this.kind,
      params: this.getParams(),
      state: { targetMean: this.targetMean_, columns: this.columns_ ?? notFitted('TargetEncoder') },
    };
  }

  static fromJSON(doc: TransformerJSON): TargetEncoder {
    const p = z
      .object({
        smooth: z.union([z.literal('auto'), z.number().nonnegative()]),
        cv: z.number().int().min(2),
        seed: z.number(),
      })
      .parse(doc.params);
    const s = z
      .object({
        targetMean: z.number(),
        columns: z.array(
          z.object({ name: z.string(), categories: z.array(z.string()), encodings: z.array(z.number()) }),
        ),
      })
      .refine((d) => d.columns.every((c) => c.categories.length === c.encodings.length), {
        message: 'one encoding per category',
      })
      .parse(doc.state);
    const t = new TargetEncoder(p);
    t.targetMean_ = s.targetMean;
    t.columns_ = s.columns;
    return t;
  }
}

function mean(y: ArrayLike<number>, rows: Int32Array): number {
  let s = 0;
  for (const r of rows) s += y[r];
  return s / rows.length;
}

/** Encodings of one column learned from the given rows. */
function learn(
  frame: Frame,
  name: string,
  y: ArrayLike<number>,
  rows: Int32Array,
  smooth: 'auto' | number,
): TargetColumn {
  const value = categoryValues(frame, name, 'TargetEncoder');
  const yMean = mean(y, rows);
  let yVar = 0;
  for (const r of rows) yVar += (y[r] - yMean) ** 2;
  yVar /= rows.length;
  const stats = new Map<string, { n: number; sum: number; rows: number[] }>();
  for (const r of rows) {
    const v = value(r);
    if (v === null) continue;
    let s = stats.get(v);
    if (!s) stats.set(v, (s = { n: 0, sum: 0, rows: [] }));
    s.n++;
    s.sum += y[r];
    s.rows.push(r);
  }
  const categories = sortStrings(stats.keys());
  const encodings = categories.map((c) => {
    const s = stats.get(c)!;
    if (smooth !== 'auto') return (s.sum + smooth * yMean) / (s.n + smooth);
    const m = s.sum / s.n;
    let ss = 0;
    for (const r of s.rows) ss += (y[r] - m) ** 2;
    const denom = yVar * s.n + ss / s.n;
    const lambda = denom === 0 ? 1 : (yVar * s.n) / denom;
    return lambda * m + (1 - lambda) * yMean;
  });
  return { name, categories, encodings };
}

function encode(frame: Frame, c: TargetColumn, fallback: number): Float64Array {
  const value = categoryValues(frame, c.name, 'TargetEncoder');
  const index = new Map(c.categories.map((cat, i) => [cat, c.encodings[i]]));
  return Float64Array.from({ length: frame.nRows }, (_, r) => {
    const v = value(r);
    return v === null ? fallback : (index.get(v) ?? fallback);
  });
}

/** A fold (0..cv-1) per row: seeded, and stratified when the target is 0/1. */
function foldsOf(y: ArrayLike<number>, cv: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const n = y.length;
  const folds = new Int32Array(n);
  let binary = true;
  for (let i = 0; i < n && binary; i++) binary = y[i] === 0 || y[i] === 1;
  const groups: number[][] = binary ? [[], []] : [[]];
  for (let i = 0; i < n; i++) groups[binary ? y[i] : 0].push(i);
  let offset = 0;
  for (const g of groups) {
    rng.shuffle(g);
    g.forEach((row, k) => {
      folds[row] = (k + offset) % cv;
    });
    offset += g.length; // continue the round-robin, so folds stay balanced in size
  }
  return folds;
}
