/**
 * Model: a trained bundle (feature pipeline + classifier + input signature + metadata) and its
 * file format, a versioned JSON document. Loading validates the document with zod and builds
 * objects from data only: nothing in a model file is ever evaluated as code.
 */
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';
import { ColumnSpecSchema } from '../data/schema.js';
import { treeShap } from './explain/treeshap.js';
import { FeaturePipeline } from './features.js';
import { ExtraTreesClassifier, RandomForestClassifier } from './forest.js';
import { GradientBoostingClassifier } from './gbdt.js';
import { LogisticRegression } from './logistic.js';
import { giveShared, takeShared } from './tree/pool.js';
import { hasCategorical } from './tree/tree.js';
import type { Classifier, Matrix, Predictor, Signature } from './types.js';

export const MODEL_FORMAT = 'keel.model';
/**
 * The newest model format version this Keel reads. Version 2 adds category-set splits in trees
 * (catOffset/catValues, which an older reader would silently ignore); a model without them is
 * still written as version 1, byte for byte as before, so every Keel reads it.
 */
export const MODEL_FORMAT_VERSION = 2;

/** The oldest format version that can hold this classifier. */
function documentVersion(c: Classifier): number {
  return c instanceof GradientBoostingClassifier && c.trees_.some(hasCategorical) ? 2 : 1;
}

/** Classifier kinds a model document may name, and how to rebuild each from its JSON. */
const classifierKinds: Record<string, (doc: unknown) => Classifier> = {
  logistic_regression: (d) => LogisticRegression.fromJSON(d),
  gradient_boosting: (d) => GradientBoostingClassifier.fromJSON(d),
  random_forest: (d) => RandomForestClassifier.fromJSON(d),
  extra_trees: (d) => ExtraTreesClassifier.fromJSON(d),
};

export function registerClassifierKind(kind: string, fromJSON: (doc: unknown) => Classifier): void {
  classifierKinds[kind] = fromJSON;
}

const SignatureSchema = z.object({
  inputs: z.array(ColumnSpecSchema),
  target: z.object({ name: z.string(), classes: z.tuple([z.string(), z.string()]), positive: z.string() }),
});

const ModelDocumentSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.number().int().positive(),
  signature: SignatureSchema,
  pipeline: z.unknown(),
  classifier: z.object({ kind: z.string(), model: z.unknown() }),
  threshold: z.number().min(0).max(1),
  metadata: z.record(z.string(), z.unknown()),
});
export type ModelDocument = z.infer<typeof ModelDocumentSchema>;

export interface Explanation {
  /** The input columns, in signature order. */
  inputs: string[];
  baseValue: number;
  /** What baseValue + Σ contributions adds up to. */
  output: 'margin' | 'probability' | 'value';
  /** contributions[row * inputs.length + column] */
  contributions: Float64Array;
  nRows: number;
}

export class Model implements Predictor {
  readonly pipeline: FeaturePipeline;
  readonly classifier: Classifier;
  readonly signature: Signature;
  readonly metadata: Record<string, unknown>;
  readonly threshold: number;

  constructor(parts: {
    pipeline: FeaturePipeline;
    classifier: Classifier;
    signature: Signature;
    metadata?: Record<string, unknown>;
    threshold?: number;
  }) {
    const c = parts.classifier;
    if ((c instanceof GradientBoostingClassifier || c instanceof LogisticRegression) && c.nClasses_ > 2)
      throw new KeelError(
        'KEEL_E_USAGE',
        `a Model bundles a binary classifier (its signature has two classes); this ${c.kind} model has ${c.nClasses_}`,
      );
    this.pipeline = parts.pipeline;
    this.classifier = parts.classifier;
    this.signature = parts.signature;
    this.metadata = parts.metadata ?? {};
    this.threshold = parts.threshold ?? 0.5;
  }

  predictProba(frame: Frame): Float64Array {
    return this.classifier.predictProba(this.pipeline.transform(frame));
  }

  predictFrame(frame: Frame): { probability: Float64Array; label: string[] } {
    return this.labelled(this.predictProba(frame));
  }

  /**
   * predictFrame with the classifier's scoring off the calling thread when it can (gradient
   * boosting: worker threads, predictProbaAsync); the same numbers as predictFrame.
   */
  async predictFrameAsync(frame: Frame): Promise<{ probability: Float64Array; label: string[] }> {
    const c = this.classifier as Classifier & { predictProbaAsync?: (X: Matrix) => Promise<Float64Array> };
    if (!c.predictProbaAsync) return this.labelled(c.predictProba(this.pipeline.transform(frame)));
    // the features go straight into shared memory the scoring threads read (no copy), reused
    const buf = takeShared(frame.nRows * this.pipeline.featureNames_.length);
    try {
      return this.labelled(await c.predictProbaAsync(this.pipeline.transform(frame, buf)));
    } finally {
      giveShared(buf);
    }
  }

  private labelled(probability: Float64Array): { probability: Float64Array; label: string[] } {
    const [neg, pos] = this.signature.target.classes;
    const label = new Array<string>(probability.length);
    for (let i = 0; i < probability.length; i++) label[i] = probability[i] >= this.threshold ? pos : neg;
    return { probability, label };
  }

  /**
   * Per-row feature contributions, summed back from the encoded features to the input columns
   * (one-hot columns and missing indicators add up into their source column). Tree models: exact
   * TreeSHAP on the log-odds margin (gradient boosting) or the probability (random forest), so
   * baseValue + Σ contributions is that output. Logistic regression: coefficient × encoded value,
   * baseValue the intercept (contributions against an all-zero encoded row: the training mean of
   * a standardized column), adding up to the margin too.
   */
  explain(frame: Frame): Explanation {
    const X = this.pipeline.transform(frame);
    const inputs = this.signature.inputs.map((c) => c.name);
    // encoded feature j → input column (the longest input name it equals or starts with "name=")
    const owner = X.names.map((f) => {
      let best = -1;
      for (let c = 0; c < inputs.length; c++)
        if (
          (f === inputs[c] || f.startsWith(`${inputs[c]}=`)) &&
          (best < 0 || inputs[c].length > inputs[best].length)
        )
          best = c;
      return best;
    });
    const k = inputs.length;
    const contributions = new Float64Array(X.nRows * k);
    let baseValue: number;
    let output: Explanation['output'];
    const c = this.classifier;
    if (c instanceof GradientBoostingClassifier || c instanceof RandomForestClassifier) {
      const shap = treeShap(c, X);
      baseValue = shap.baseValue;
      output = shap.output;
      for (let i = 0; i < X.nRows; i++)
        for (let j = 0; j < X.nCols; j++)
          if (owner[j] >= 0) contributions[i * k + owner[j]] += shap.values[i * X.nCols + j];
    } else if (c instanceof LogisticRegression) {
      baseValue = c.intercept_;
      output = 'margin';
      for (let i = 0; i < X.nRows; i++)
        for (let j = 0; j < X.nCols; j++)
          if (owner[j] >= 0) contributions[i * k + owner[j]] += c.coef_[j] * X.data[i * X.nCols + j];
    } else throw new KeelError('KEEL_E_USAGE', `explanations are not available for ${c.kind} models`);
    return { inputs, baseValue, output, contributions, nRows: X.nRows };
  }

  toJSON(): ModelDocument {
    return {
      format: MODEL_FORMAT,
      formatVersion: documentVersion(this.classifier),
      signature: this.signature,
      pipeline: this.pipeline.toJSON(),
      classifier: { kind: this.classifier.kind, model: this.classifier.toJSON() },
      threshold: this.threshold,
      metadata: this.metadata,
    };
  }

  static fromJSON(doc: unknown): Model {
    if (typeof doc !== 'object' || doc === null)
      throw new KeelError('KEEL_E_MODEL_FORMAT', 'a model document must be a JSON object');
    const head = doc as { format?: unknown; formatVersion?: unknown };
    if (head.format !== MODEL_FORMAT)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `not a Keel model: format is ${JSON.stringify(head.format)}, expected "${MODEL_FORMAT}"`,
      );
    if (typeof head.formatVersion !== 'number' || head.formatVersion > MODEL_FORMAT_VERSION)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `model format version ${JSON.stringify(head.formatVersion)} is newer than this Keel reads (${MODEL_FORMAT_VERSION}): upgrade Keel`,
      );
    const r = ModelDocumentSchema.safeParse(doc);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `invalid model document at ${i.path.join('.') || '(root)'}: ${i.message}`,
        {
          path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        },
      );
    }
    const d = r.data;
    const make = classifierKinds[d.classifier.kind];
    if (!make)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `unknown classifier kind "${d.classifier.kind}" (known: ${Object.keys(classifierKinds).join(', ')})`,
      );
    try {
      const signature = d.signature as Signature;
      return new Model({
        pipeline: FeaturePipeline.fromJSON(d.pipeline, signature.inputs),
        classifier: make(d.classifier.model),
        signature,
        metadata: d.metadata,
        threshold: d.threshold,
      });
    } catch (e) {
      if (e instanceof KeelError) throw e;
      const msg =
        e instanceof z.ZodError
          ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
          : (e as Error).message;
      throw new KeelError('KEEL_E_MODEL_FORMAT', `invalid model document: ${msg}`, {}, { cause: e });
    }
  }
}
