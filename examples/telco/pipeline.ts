/**
 * The IBM Telco customer-churn data, end to end: a user's pipeline written with Keel's public API.
 *
 *   keel run examples/telco/pipeline.ts --param data=../shared/data/telco_churn.csv
 *
 * The CSV is not part of the repository; its path is a parameter (default: the shared copy beside
 * this repository). Inside a project that installs Keel, import from 'keel-ml/pipeline' etc.;
 * here, inside Keel's own repository, the imports point at the sources.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSchema } from '../../src/data/index.js';
import { definePipeline } from '../../src/pipeline/index.js';
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
} from '../../src/recipes/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const schema = loadSchema(join(here, 'schema.yaml'));

export default definePipeline(
  {
    name: 'telco',
    description: 'Telco customer churn: logistic regression vs gradient boosting vs random forest',
    params: {
      data: join(here, '..', '..', '..', 'shared', 'data', 'telco_churn.csv'),
      model: 'telco-churn',
      seed: 7,
    },
  },
  (step) => {
    const ingest = step('ingest', (_, ctx) => ingestCsv(ctx, ctx.params.data, schema));
    const validate = step('validate', { ingest }, ({ ingest }, ctx) => validateData(ctx, ingest));
    const split = step('split', { ingest, validate }, ({ ingest }, ctx) =>
      splitData(ingest.frame, schema, ctx.params.seed),
    );
    const features = step('features', { split }, ({ split }) => fitFeatures(split));
    const [lr, gbdt, rf] = defaultCandidates(7).map((c) =>
      step(`train_${c.name}`, { split, features }, ({ split, features }, ctx) =>
        trainCandidate(ctx, c, split, features),
      ),
    );
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
        undefined,
        gateSettings(ctx.config).min_delta_vs_production,
      ),
    );
    return promote;
  },
);
