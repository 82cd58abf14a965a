/**
 * Building blocks for binary-classification pipelines on a table: each function is the body of
 * one step, written against the public APIs of data, learn and track. The demo and the Telco
 * example compose them with definePipeline/step; a user's own pipeline can use them or not.
 */
import { basename } from 'node:path';
import { KeelError } from '../core/errors.js';
import {
  assertValid,
  cellValue,
  type Frame,
  featureSpecs,
  formatReport,
  profileFrame,
  type Quarantine,
  quarantineCsv,
  readTable,
  renderReportHtml,
  type Schema,
  type ValidationReport,
} from '../data/index.js';
import {
  binaryMetrics,
  type Classifier,
  FeaturePipeline,
  GradientBoostingClassifier,
  LogisticRegression,
  type Matrix,
  Model,
  RandomForestClassifier,
  type Signature,
  stratifiedSplit,
} from '../learn/index.js';
import type { RunHandle, StepContext } from '../pipeline/index.js';
import { championGate, type SliceRule, sliceGate, sliceMetrics } from '../select/index.js';

export interface Ingested {
  /** The kept rows (the quarantined ones are in `quarantine`). */
  frame: Frame;
  report: ValidationReport;
  quarantine?: Quarantine;
  file: string;
  sha256: string;
}

/**
 * Read the data under its schema and record it as the run's raw dataset input (by content hash).
 * Any source readTable reads: a CSV/TSV/Parquet/JSON file or glob, s3://bucket/key, postgres://….
 */
export async function ingestCsv(ctx: StepContext<unknown>, file: string, schema: Schema): Promise<Ingested> {
  const { frame, report, quarantine, source } = await readTable(file, schema);
  await ctx.run.logDataset({
    name: basename(file),
    sha256: source.sha256,
    source: file,
    rows: frame.nRows,
    context: 'raw',
  });
  ctx.progress(`${frame.nRows} rows x ${frame.nCols} columns, sha256 ${source.sha256.slice(0, 12)}`);
  return { frame, report, quarantine, file, sha256: source.sha256 };
}

/**
 * Store the validation report (JSON and HTML) and the quarantined rows; stop the pipeline when the
 * data breaks an error rule. Rows that broke row-level rules were already left out of the frame.
 */
export async function validateData(ctx: StepContext<unknown>, data: Ingested): Promise<ValidationReport> {
  const { report } = data;
  await ctx.run.logArtifact('reports/validation.json', JSON.stringify(report, null, 2));
  await ctx.run.logArtifact('reports/validation.html', renderReportHtml(report));
  if (data.quarantine && data.quarantine.rows.length > 0)
    await ctx.run.logArtifact('data/quarantine.csv', quarantineCsv(data.quarantine));
  // the kept rows' profile: what this run's model saw, the reference for later drift checks
  await ctx.run.logArtifact('data/profile.json', JSON.stringify(profileFrame(data.frame), null, 2));
  await ctx.run.logMetrics({
    'data.rows': report.rows,
    'data.rows_kept': report.kept,
    'data.rows_quarantined': report.quarantined,
    'data.violations': report.violations.length,
  });
  for (const v of report.violations.filter((x) => x.severity === 'warning'))
    ctx.logger.warn(`${v.column}: ${v.rule} (${v.count} rows)`);
  assertValid(report, data.file);
  if (report.violations.length > 0) ctx.progress(formatReport(report, data.file).split('\n')[0]);
  return report;
}

export interface SplitData {
  train: Frame;
  validation: Frame;
  test: Frame;
  yTrain: Float64Array;
  yValidation: Float64Array;
  yTest: Float64Array;
  signature: Signature;
}

/** Encode the target as 0/1 (positive = 1) and make a stratified, seeded train/validation/test split. */
export function splitData(
  frame: Frame,
  schema: Schema,
  seed: number,
  fractions = { train: 0.7, validation: 0.15, test: 0.15 },
): SplitData {
  const target = schema.target;
  if (!target)
    throw new KeelError(
      'KEEL_E_SCHEMA',
      'the schema has no target: add `target: {column, positive, classes}`',
    );
  const y = encodeTarget(frame, target.column, target.positive);
  const idx = stratifiedSplit(y, fractions, seed);
  const inputs = featureSpecs(schema);
  const names = inputs.map((c) => c.name);
  const negative = target.classes.find((c) => c !== target.positive) ?? 'not ' + target.positive;
  const pick = (rows: Int32Array) => frame.take(rows).select(names);
  const ys = (rows: Int32Array) => Float64Array.from(rows, (r) => y[r]);
  return {
    train: pick(idx.train),
    validation: pick(idx.validation),
    test: pick(idx.test),
    yTrain: ys(idx.train),
    yValidation: ys(idx.validation),
    yTest: ys(idx.test),
    signature: {
      inputs,
      target: { name: target.column, classes: [negative, target.positive], positive: target.positive },
    },
  };
}

export function encodeTarget(frame: Frame, column: string, positive: string): Float64Array {
  if (!frame.has(column))
    throw new KeelError('KEEL_E_TARGET', `the target column "${column}" is missing`, { column });
  const y = new Float64Array(frame.nRows);
  for (let r = 0; r < frame.nRows; r++) {
    const v = frame.value(column, r);
    if (v === null)
      throw new KeelError('KEEL_E_TARGET', `the target "${column}" is missing in data row ${r + 1}`, {
        column,
        row: r + 1,
      });
    y[r] = String(v) === positive ? 1 : 0;
  }
  return y;
}

export interface Features {
  pipeline: FeaturePipeline;
  train: Matrix;
  validation: Matrix;
  test: Matrix;
}

/** Fit the feature pipeline (impute, scale, one-hot) on the training rows only. */
export function fitFeatures(split: SplitData): Features {
  const pipeline = new FeaturePipeline({ columns: split.signature.inputs }).fit(split.train);
  return {
    pipeline,
    train: pipeline.transform(split.train),
    validation: pipeline.transform(split.validation),
    test: pipeline.transform(split.test),
  };
}

export interface Candidate {
  name: string;
  make: () => Classifier;
}

export function defaultCandidates(seed: number): Candidate[] {
  return [
    { name: 'logistic_regression', make: () => new LogisticRegression({ C: 1.0 }) },
    {
      name: 'gradient_boosting',
      make: () =>
        new GradientBoostingClassifier({
          nEstimators: 300,
          learningRate: 0.05,
          maxDepth: 4,
          earlyStoppingRounds: 30,
          seed,
        }),
    },
    {
      name: 'random_forest',
      make: () => new RandomForestClassifier({ nEstimators: 100, maxDepth: 10, minSamplesLeaf: 5, seed }),
    },
  ];
}

export interface Trained {
  name: string;
  model: Model;
  seconds: number;
  params: Record<string, unknown>;
}

/** Fit one candidate on the training matrix (validation rows drive early stopping) and bundle it. */
export async function trainCandidate(
  ctx: StepContext<unknown>,
  candidate: Candidate,
  split: SplitData,
  features: Features,
): Promise<Trained> {
  const t = performance.now();
  const clf = candidate.make().fit(features.train, split.yTrain, {
    eval: { X: features.validation, y: split.yValidation },
    onProgress: (f, msg) => ctx.progress(msg ?? `${Math.round(f * 100)}%`),
  });
  const seconds = (performance.now() - t) / 1000;
  const params = clf.getParams();
  await ctx.run.logParams(prefixed(candidate.name, params));
  const model = new Model({
    pipeline: features.pipeline,
    classifier: clf,
    signature: split.signature,
    metadata: {
      candidate: candidate.name,
      runId: ctx.run.id,
      trainedAt: new Date().toISOString(),
      trainRows: split.train.nRows,
    },
  });
  return { name: candidate.name, model, seconds, params };
}

function prefixed(
  prefix: string,
  params: Record<string, unknown>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    out[`${prefix}.${k}`] = typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
  }
  return out;
}

export interface Evaluation {
  name: string;
  model: Model;
  seconds: number;
  validation: ReturnType<typeof binaryMetrics>;
  test: ReturnType<typeof binaryMetrics>;
}

/** Score every model on validation and test; log test metrics per model; best = highest validation ROC-AUC. */
export async function evaluateModels(
  run: RunHandle,
  trained: Trained[],
  split: SplitData,
): Promise<{ results: Evaluation[]; best: Evaluation }> {
  const results: Evaluation[] = [];
  for (const t of trained) {
    const validation = binaryMetrics(split.yValidation, t.model.predictFrame(split.validation).probability);
    const test = binaryMetrics(split.yTest, t.model.predictFrame(split.test).probability);
    results.push({ name: t.name, model: t.model, seconds: t.seconds, validation, test });
    await run.logMetrics(scalarMetrics(`${t.name}.test`, test));
    await run.logMetrics(scalarMetrics(`${t.name}.validation`, validation));
  }
  // Selection uses the validation split; the test split stays an honest estimate.
  const best = results.reduce((a, b) => (b.validation.rocAuc > a.validation.rocAuc ? b : a));
  await run.logMetrics(scalarMetrics('test', best.test));
  await run.setTags({ 'keel.best_model': best.name });
  await run.logArtifact(
    'reports/evaluation.json',
    JSON.stringify(
      results.map((r) => ({ name: r.name, seconds: r.seconds, validation: r.validation, test: r.test })),
      null,
      2,
    ),
  );
  return { results, best };
}

export function scalarMetrics(prefix: string, m: ReturnType<typeof binaryMetrics>): Record<string, number> {
  return {
    [`${prefix}.accuracy`]: m.accuracy,
    [`${prefix}.precision`]: m.precision,
    [`${prefix}.recall`]: m.recall,
    [`${prefix}.f1`]: m.f1,
    [`${prefix}.roc_auc`]: m.rocAuc,
    [`${prefix}.log_loss`]: m.logLoss,
  };
}

export interface GateConfig {
  min_roc_auc: number;
  min_f1: number;
  max_log_loss: number;
}

export interface GateVerdict {
  passed: boolean;
  reasons: string[];
}

/** What the relative and per-slice gates score on: the run's test rows and the registered model's name. */
export interface GateContext {
  split: SplitData;
  /** The registered model whose `production` version the candidate must beat. */
  model: string;
  loadModel?: (doc: unknown) => Model;
}

/**
 * The quality gate on the test rows: absolute thresholds (min_roc_auc, min_f1, max_log_loss), and
 * with a context also the per-slice minimums (gate.slices, F1 and recall at 0.5 as the test
 * metrics are) and the relative gate (gate.min_delta_vs_production: the candidate must beat the
 * production version on the same rows, judged by a paired bootstrap; off while there is none).
 * Records the verdict on the run; throws KEEL_E_GATE when it fails, so the pipeline stops before
 * anything is registered.
 */
export async function qualityGate(
  run: RunHandle,
  best: Evaluation,
  gate: GateConfig & { min_delta_vs_production?: number; slices?: Readonly<Record<string, SliceGateRule>> },
  context?: GateContext,
): Promise<GateVerdict> {
  const m = best.test;
  const reasons: string[] = [];
  const check = (ok: boolean, text: string) => reasons.push(`${ok ? 'pass' : 'FAIL'}: ${text}`);
  check(m.rocAuc >= gate.min_roc_auc, `roc_auc ${m.rocAuc.toFixed(4)} >= ${gate.min_roc_auc}`);
  check(m.f1 >= gate.min_f1, `f1 ${m.f1.toFixed(4)} >= ${gate.min_f1}`);
  check(m.logLoss <= gate.max_log_loss, `log_loss ${m.logLoss.toFixed(4)} <= ${gate.max_log_loss}`);
  if (context) {
    const { split } = context;
    const rules: SliceRule[] = Object.entries(gate.slices ?? {}).map(([column, r]) => ({ column, ...r }));
    let proba: Float64Array | undefined;
    const candidate = () => (proba ??= best.model.predictFrame(split.test).probability);
    if (rules.length > 0) {
      const columns = rules.map(({ column }) => {
        if (!split.test.has(column))
          throw new KeelError('KEEL_E_CONFIG', `gate.slices: the test rows have no column "${column}"`, {
            path: ['gate', 'slices', column],
          });
        const c = split.test.col(column);
        const values = Array.from({ length: split.test.nRows }, (_, i) => {
          const v = cellValue(c, i);
          return v === null ? null : String(v);
        });
        return { column, values };
      });
      reasons.push(...sliceGate(sliceMetrics(split.yTest, candidate(), 0.5, columns), rules).reasons);
    }
    if (gate.min_delta_vs_production !== undefined) {
      const current = await run.store.getModelVersionByAlias(context.model, 'production');
      if (current) {
        const load = context.loadModel ?? ((doc: unknown) => Model.fromJSON(doc));
        const prod = load(JSON.parse((await run.artifacts.get(current.artifact)).toString('utf8')));
        const g = championGate(split.yTest, candidate(), prod.predictFrame(split.test).probability, {
          minDelta: gate.min_delta_vs_production,
          resamples: 1000,
          seed: 42,
        });
        reasons.push(...g.reasons.map((r) => `${r} vs production v${current.version}`));
        if (!g.passed) {
          // promotion never runs after a failed gate: the comparison is kept with the failed run
          const { deltas: _deltas, ...boot } = g.bootstrap;
          await logChampionChallenger(run, {
            production: { name: context.model, version: current.version, runId: current.runId },
            candidate: { name: context.model, version: null },
            rows: split.test.nRows,
            bootstrap: boot,
            rule: `paired bootstrap CI low >= ${gate.min_delta_vs_production}`,
            promoted: false,
          });
        }
      }
    }
  }
  const passed = reasons.every((r) => r.startsWith('pass'));
  await run.setTags({ 'keel.gate': passed ? 'passed' : 'failed', 'keel.gate.reasons': reasons.join('; ') });
  if (!passed)
    throw new KeelError(
      'KEEL_E_GATE',
      `quality gate failed for ${best.name}: ${reasons.filter((r) => r.startsWith('FAIL')).join('; ')}`,
      {
        rule: 'gate',
      },
    );
  return { passed, reasons };
}

/** The champion-versus-challenger comparison on the same test rows, stored with the run. */
async function logChampionChallenger(run: RunHandle, doc: Record<string, unknown>): Promise<void> {
  await run.logArtifact('reports/champion_challenger.json', JSON.stringify(doc, null, 2));
}

/** keel.yaml gate.slices.COLUMN: minimums every slice of COLUMN with min_rows rows must meet. */
export type SliceGateRule = Omit<SliceRule, 'column'>;

export interface Registered {
  name: string;
  version: number;
  alias: string;
}

/** Store the model document as an artifact and register it as a new version with alias `staging`. */
export async function registerModel(run: RunHandle, name: string, best: Evaluation): Promise<Registered> {
  const doc = JSON.stringify(best.model.toJSON());
  const artifact = await run.logArtifact('model/model.json', doc);
  const mv = await run.store.createModelVersion({
    name,
    runId: run.id,
    artifact,
    description: `${best.name}, test roc_auc ${best.test.rocAuc.toFixed(4)}`,
    actor: 'pipeline',
  });
  await run.store.setAlias(name, 'staging', mv.version, {
    actor: 'pipeline',
    reason: `run ${run.id} passed its quality gate`,
  });
  await run.setTags({ 'keel.model': `${name}/${mv.version}` });
  return { name, version: mv.version, alias: 'staging' };
}

export interface Promotion {
  promoted: boolean;
  /** The paired bootstrap of test ROC-AUC (new − production) on the same rows, when production scored them. */
  bootstrap?: { delta: number; ci: [number, number]; resamples: number };
  version: number;
  previousVersion: number | null;
  previousRocAuc: number | null;
  rocAuc: number;
  reason: string;
}

/**
 * Move `production` to the new version when it beats the current production model on the same
 * test rows (by at least `minImprovement` ROC-AUC), or when there is no production model yet.
 */
export async function promoteIfBetter(
  run: RunHandle,
  registered: Registered,
  best: Evaluation,
  split: SplitData,
  minImprovement: number,
  loadModel: (doc: unknown) => Model = (doc) => Model.fromJSON(doc),
  /**
   * keel.yaml gate.min_delta_vs_production: when set, promotion is judged by a paired bootstrap
   * instead: the lower end of the 95% interval of the ROC-AUC difference must reach it.
   */
  minDeltaVsProduction?: number,
): Promise<Promotion> {
  const { name, version } = registered;
  const rocAuc = best.test.rocAuc;
  const current = await run.store.getModelVersionByAlias(name, 'production');
  let previousRocAuc: number | null = null;
  let bootstrap: Promotion['bootstrap'];
  let reason: string;
  let promote: boolean;
  if (!current) {
    promote = true;
    reason = 'no production version yet';
  } else {
    try {
      const prod = loadModel(JSON.parse((await run.artifacts.get(current.artifact)).toString('utf8')));
      const prodProba = prod.predictFrame(split.test).probability;
      previousRocAuc = binaryMetrics(split.yTest, prodProba).rocAuc;
      reason = `test roc_auc ${rocAuc.toFixed(4)} vs production v${current.version} ${previousRocAuc.toFixed(4)} on the same ${split.test.nRows} rows`;
      // champion versus challenger on the same holdout, stored with the run
      const g = championGate(split.yTest, best.model.predictFrame(split.test).probability, prodProba, {
        minDelta: minDeltaVsProduction ?? 0,
        resamples: 1000,
        seed: 42,
      });
      const { deltas: _deltas, ...boot } = g.bootstrap;
      bootstrap = { delta: boot.delta, ci: boot.ci, resamples: boot.resamples };
      if (minDeltaVsProduction !== undefined) {
        promote = g.passed;
        reason += `; paired bootstrap: delta ${boot.delta.toFixed(4)}, 95% CI [${boot.ci[0].toFixed(4)}, ${boot.ci[1].toFixed(4)}] ${g.passed ? '>=' : '<'} ${minDeltaVsProduction}`;
      } else promote = rocAuc >= previousRocAuc + minImprovement && rocAuc > previousRocAuc;
      await logChampionChallenger(run, {
        production: { name, version: current.version, runId: current.runId },
        candidate: { name, version },
        rows: split.test.nRows,
        bootstrap: boot,
        rule:
          minDeltaVsProduction !== undefined
            ? `paired bootstrap CI low >= ${minDeltaVsProduction}`
            : `test roc_auc >= production + ${minImprovement}`,
        promoted: promote,
      });
    } catch (e) {
      promote = false;
      reason = `production v${current.version} could not score this test set (${(e as Error).message}); not promoted`;
    }
  }
  if (promote) await run.store.setAlias(name, 'production', version, { actor: 'pipeline', reason });
  await run.setTags({ 'keel.promotion': `${promote ? 'promoted' : 'kept'}: ${reason}` });
  if (previousRocAuc !== null) await run.logMetrics({ 'production.test.roc_auc': previousRocAuc });
  return {
    promoted: promote,
    version,
    previousVersion: current?.version ?? null,
    previousRocAuc,
    rocAuc,
    reason,
    ...(bootstrap ? { bootstrap } : {}),
  };
}

/** The gate thresholds from the project configuration (keel.yaml `gate:`), with defaults. */
export function gateSettings(config: Readonly<Record<string, unknown>>): GateConfig & {
  min_improvement: number;
  min_delta_vs_production?: number;
  slices?: Record<string, SliceGateRule>;
} {
  const g = (config.gate ?? {}) as Partial<
    GateConfig & {
      min_improvement: number;
      min_delta_vs_production: number;
      slices: Record<string, SliceGateRule>;
    }
  >;
  return {
    min_roc_auc: g.min_roc_auc ?? 0.7,
    min_f1: g.min_f1 ?? 0,
    max_log_loss: g.max_log_loss ?? 1,
    min_improvement: g.min_improvement ?? 0,
    ...(g.min_delta_vs_production !== undefined
      ? { min_delta_vs_production: g.min_delta_vs_production }
      : {}),
    ...(g.slices && Object.keys(g.slices).length > 0 ? { slices: g.slices } : {}),
  };
}
