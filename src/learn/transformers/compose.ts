/**
 * Composition: ColumnTransformer applies named transformers to named columns side by side and
 * concatenates their outputs (scikit-learn's ColumnTransformer); TransformerChain applies
 * transformers one after the other (scikit-learn's Pipeline of transformers). Both nest, and
 * `transformerFromJSON` reads any transformer (composed or not) back from its JSON form.
 */
import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import type { Column, Frame } from '../../data/frame.js';
import { frameOf, notFitted, type Transformer, type TransformerJSON } from './base.js';
import { OneHotEncoder, OrdinalEncoder } from './encoders.js';
import { SimpleImputer } from './imputer.js';
import { MinMaxScaler, StandardScaler } from './scalers.js';
import { TargetEncoder } from './target-encoder.js';

export interface ColumnStep {
  name: string;
  transformer: Transformer;
  columns: string[];
}

export interface ColumnTransformerParams {
  steps: ColumnStep[];
  /** Columns no step names: dropped, or passed through unchanged after the steps' outputs. */
  remainder: 'drop' | 'passthrough';
}

export class ColumnTransformer implements Transformer {
  readonly kind = 'column_transformer';
  readonly params: ColumnTransformerParams;
  remainder_?: string[];
  private fitted = false;

  constructor(params: Partial<ColumnTransformerParams> & { steps: ColumnStep[] }) {
    this.params = Object.freeze({ remainder: 'drop' as const, ...params, steps: [...params.steps] });
  }

  getParams(): Record<string, unknown> {
    return { remainder: this.params.remainder, steps: this.params.steps.map((s) => ({ ...s })) };
  }

  private prepare(frame: Frame): void {
    const names = new Set<string>();
    const used = new Set<string>();
    for (const s of this.params.steps) {
      if (names.has(s.name))
        throw new KeelError('KEEL_E_INPUT', `ColumnTransformer: two steps are named "${s.name}"`, {
          step: s.name,
        });
      names.add(s.name);
      for (const c of s.columns) {
        if (!frame.has(c))
          throw new KeelError(
            'KEEL_E_INPUT',
            `ColumnTransformer: step "${s.name}" names column "${c}", which the frame lacks`,
            {
              step: s.name,
              column: c,
            },
          );
        used.add(c);
      }
    }
    this.remainder_ = this.params.remainder === 'passthrough' ? frame.names.filter((n) => !used.has(n)) : [];
  }

  fit(frame: Frame, y?: ArrayLike<number>): this {
    this.prepare(frame);
    for (const s of this.params.steps) s.transformer.fit(frame.select(s.columns), y);
    this.fitted = true;
    this.featureNamesOut(); // refuse duplicate output names now, not at the first transform
    return this;
  }

  fitTransform(frame: Frame, y?: ArrayLike<number>): Frame {
    this.prepare(frame);
    const parts = this.params.steps.map((s) => s.transformer.fitTransform(frame.select(s.columns), y));
    this.fitted = true;
    this.featureNamesOut();
    return this.concat(frame, parts);
  }

  transform(frame: Frame): Frame {
    if (!this.fitted) notFitted('ColumnTransformer');
    return this.concat(
      frame,
      this.params.steps.map((s) => s.transformer.transform(frame.select(s.columns))),
    );
  }

  private concat(frame: Frame, parts: Frame[]): Frame {
    const names: string[] = [];
    const cols: Column[] = [];
    for (const p of parts)
      for (const n of p.names) {
        names.push(n);
        cols.push(p.col(n));
      }
    for (const n of this.remainder_ ?? []) {
      names.push(n);
      cols.push(frame.col(n));
    }
    return frameOf(names, cols);
  }

  featureNamesOut(): string[] {
    if (!this.fitted) notFitted('ColumnTransformer');
    const seen = new Map<string, string>();
    const out: string[] = [];
    for (const s of this.params.steps)
      for (const n of s.transformer.featureNamesOut()) {
        const other = seen.get(n);
        if (other !== undefined)
          throw new KeelError(
            'KEEL_E_INPUT',
            `ColumnTransformer: output column "${n}" comes from both step "${other}" and step "${s.name}"`,
            { step: s.name, column: n },
          );
        seen.set(n, s.name);
        out.push(n);
      }
    return [...out, ...(this.remainder_ ?? [])];
  }

  toJSON(): TransformerJSON {
    if (!this.fitted) notFitted('ColumnTransformer');
    return {
      kind: this.kind,
      params: { remainder: this.params.remainder },
      state: {
        remainder: this.remainder_,
        steps: this.params.steps.map((s) => ({
          name: s.name,
          columns: s.columns,
          transformer: s.transformer.toJSON(),
        })),
      },
    };
  }

  static fromJSON(doc: TransformerJSON): ColumnTransformer {
    const p = z.object({ remainder: z.enum(['drop', 'passthrough']) }).parse(doc.params);
    const s = z
      .object({
        remainder: z.array(z.string()),
        steps: z.array(
          z.object({ name: z.string(), columns: z.array(z.string()), transformer: TransformerJSONSchema }),
        ),
      })
      .parse(doc.state);
    const t = new ColumnTransformer({
      remainder: p.remainder,
      steps: s.steps.map((x) => ({
        name: x.name,
        columns: x.columns,
        transformer: transformerFromJSON(x.transformer),
      })),
    });
    t.remainder_ = s.remainder;
    t.fitted = true;
    return t;
  }
}

export interface TransformerChainParams {
  steps: { name: string; transformer: Transformer }[];
}

export class TransformerChain implements Transformer {
  readonly kind = 'transformer_chain';
  readonly params: TransformerChainParams;
  private fitted = false;

  constructor(params: TransformerChainParams) {
    this.params = Object.freeze({ steps: [...params.steps] });
  }

  /** The step called `name` (for reading its learned state). */
  step(name: string): Transformer {
    const s = this.params.steps.find((x) => x.name === name);
    if (!s)
      throw new KeelError('KEEL_E_NOT_FOUND', `TransformerChain: no step named "${name}"`, { step: name });
    return s.transformer;
  }

  getParams(): Record<string, unknown> {
    return { steps: this.params.steps.map((s) => ({ ...s })) };
  }

  fit(frame: Frame, y?: ArrayLike<number>): this {
    this.fitTransform(frame, y);
    return this;
  }

  fitTransform(frame: Frame, y?: ArrayLike<number>): Frame {
    let f = frame;
    for (const s of this.params.steps) f = s.transformer.fitTransform(f, y);
    this.fitted = true;
    return f;
  }

  transform(frame: Frame): Frame {
    if (!this.fitted) notFitted('TransformerChain');
    let f = frame;
    for (const s of this.params.steps) f = s.transformer.transform(f);
    return f;
  }

  featureNamesOut(): string[] {
    if (!this.fitted) notFitted('TransformerChain');
    const last = this.params.steps.at(-1);
    return last ? last.transformer.featureNamesOut() : [];
  }

  toJSON(): TransformerJSON {
    if (!this.fitted) notFitted('TransformerChain');
    return {
      kind: this.kind,
      params: {},
      state: { steps: this.params.steps.map((s) => ({ name: s.name, transformer: s.transformer.toJSON() })) },
    };
  }

  static fromJSON(doc: TransformerJSON): TransformerChain {
    const s = z
      .object({ steps: z.array(z.object({ name: z.string(), transformer: TransformerJSONSchema })) })
      .parse(doc.state);
    const t = new TransformerChain({
      steps: s.steps.map((x) => ({ name: x.name, transformer: transformerFromJSON(x.transformer) })),
    });
    t.fitted = true;
    return t;
  }
}

const TransformerJSONSchema = z.object({
  kind: z.string(),
  params: z.record(z.string(), z.unknown()),
  state: z.unknown(),
});

const readers: Record<string, (doc: TransformerJSON) => Transformer> = {
  simple_imputer: SimpleImputer.fromJSON,
  standard_scaler: StandardScaler.fromJSON,
  min_max_scaler: MinMaxScaler.fromJSON,
  one_hot_encoder: OneHotEncoder.fromJSON,
  ordinal_encoder: OrdinalEncoder.fromJSON,
  target_encoder: TargetEncoder.fromJSON,
  column_transformer: ColumnTransformer.fromJSON,
  transformer_chain: TransformerChain.fromJSON,
};

/** Any transformer from its `toJSON()` form. Data only: an unknown kind or a bad field is a KEEL_E_MODEL_FORMAT error. */
export function transformerFromJSON(doc: unknown): Transformer {
  const parsed = TransformerJSONSchema.safeParse(doc);
  if (!parsed.success)
    throw new KeelError(
      'KEEL_E_MODEL_FORMAT',
      `a transformer document needs kind, params and state: ${parsed.error.issues[0]?.message}`,
    );
  const read = readers[parsed.data.kind];
  if (!read)
    throw new KeelError(
      'KEEL_E_MODEL_FORMAT',
      `unknown transformer kind "${parsed.data.kind}" (known: ${Object.keys(readers).join(', ')})`,
    );
  try {
    return read(parsed.data as TransformerJSON);
  } catch (e) {
    if (e instanceof z.ZodError) {
      const issue = e.issues[0];
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `invalid ${parsed.data.kind} document at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
        { path: issue.path.map((k) => (typeof k === 'number' ? k : String(k))) },
        { cause: e },
      );
    }
    throw e;
  }
}
