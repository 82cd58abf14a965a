/**
 * The churn pipeline that `keel demo` runs, written with the same public API a user's pipeline
 * uses: ingest → validate → split → features → train (three models, concurrently) → evaluate →
 * gate → register (alias staging) → promote (alias production when it beats the current one).
 */
import type { Schema } from '../data/index.js';
import { Model } from '../learn/index.js';
import { definePipeline, type Pipeline } from '../pipeline/index.js';
import {
  defaultCandidates,
  evaluateModels,
  fitFeatures,
  gateSettings,
  ingestCsv,
  promoteIfBetter,
  qualityGate,
  registerModel,
  splitData,
  trainCandidate,
  validateData,
} from '../recipes/index.js';

export interface ChurnParams extends Record<string, unknown> {
  /** The CSV to train on. */
  data: string;
  /** The registered model name. */
  model: string;
  seed: number;
}

export function churnPipeline(schema: Schema, params: ChurnParams, name = 'churn'): Pipeline<ChurnParams> {
  return definePipeline(
    { name, description: 'binary churn classifier from a CSV, end to end', params },
    (step) => {
      const ingest = step('ingest', (_, ctx) => ingestCsv(ctx, ctx.params.data, schema));
      const validate = step('validate', { ingest }, ({ ingest }, ctx) => validateData(ctx, ingest));
      const split = step('split', { ingest, validate }, ({ ingest }, ctx) => {
        const s = splitData(ingest.frame, schema, ctx.params.seed);
        ctx.progress(
          `train ${s.train.nRows}, validation ${s.validation.nRows}, test ${s.test.nRows} rows (stratified, seed ${ctx.params.seed})`,
        );
        return s;
      });
      const features = step('features', { split }, ({ split }, ctx) => {
        const f = fitFeatures(split);
        ctx.progress(`${f.train.nCols} features from ${split.signature.inputs.length} columns`);
        return f;
      });
      const trainers = defaultCandidates(params.seed).map((c) =>
        step(`train_${c.name}`, { split, features }, ({ split, features }, ctx) =>
          trainCandidate(ctx, c, split, features),
        ),
      );
      const [lr, gbdt, rf] = trainers;
      const evaluate = step('evaluate', { lr, gbdt, rf, split }, ({ lr, gbdt, rf, split }, ctx) =>
        evaluateModels(ctx.run, [lr, gbdt, rf], split),
      );
      const gate = step('gate', { evaluate, split }, ({ evaluate, split }, ctx) =>
        qualityGate(ctx.run, evaluate.best, gateSettings(ctx.config), { split, model: ctx.params.model }),
      );
      const register = step('register', { evaluate, gate }, ({ evaluate }, ctx) =>
        registerModel(ctx.run, ctx.params.model, evaluate.best),
      );
      const promote = step('promote', { register, evaluate, split }, ({ register, evaluate, split }, ctx) =>
        promoteIfBetter(
          ctx.run,
          register,
          evaluate.best,
          split,
          gateSettings(ctx.config).min_improvement,
          (doc) => Model.fromJSON(doc),
          gateSettings(ctx.config).min_delta_vs_production,
        ),
      );
      return promote;
    },
  );
}
