/**
 * `keel train` as a library function: a CSV nobody wrote a pipeline for → inferred schema,
 * a binary target, a search across model families with stratified CV, everything tracked, the
 * winner refitted on all rows and registered as a model version.
 */
import { basename, extname } from 'node:path';
import { KeelError } from '../core/index.js';
import { type ColumnSpec, categoricalColumn, type Frame, readCsv } from '../data/index.js';
import {
  type Classifier,
  FeaturePipeline,
  GradientBoostingClassifier,
  LogisticRegression,
  type Matrix,
  Model,
  meanAbsShap,
  permutationImportance,
  RandomForestClassifier,
  type Signature,
  treeShap,
} from '../learn/index.js';
import type { ArtifactRef, ArtifactStore, TrackingStore } from '../track/index.js';
import { prepareFolds } from './cross-validate.js';
import {
  absoluteGate,
  assertGate,
  championGate,
  type GateCheck,
  type GateVerdict,
  type PairedBootstrap,
  recordGate,
  type SliceRule,
  sliceGate,
  type Threshold,
  verdict,
} from './gates.js';
import { type EvaluationReport, evaluationReport, renderReportHtml } from './report.js';
import { type SearchMethod, type SearchResult, search, type Trial } from './search.js';
import { defaultFamilies, type ModelFamily } from './space.js';
import { stratifiedKFold } from './splitters.js';

export interface TrainTableOptions {
  file: string;
  target: string;
  drop?: string[];
  /** The positive class (default: a yes/true/1-like class, else the minority class). */
  positive?: string;
  trials?: number;
  timeBudgetMs?: number;
  folds?: number;
  seed?: number;
  method?: SearchMethod;
  /** Registered model name (default from the file name). */
  name?: string;
  experiment?: string;
  families?: ModelFamily[];
  /**
   * Absolute thresholds on the winner's mean CV metrics (e.g. from keel.yaml `gate:`). The verdict
   * is recorded on the parent run; a failed gate ends the run FAILED and registers nothing.
   */
  gate?: Threshold[];
  /** Per-slice gate rules (keel.yaml `gate.slices`), judged on the out-of-fold metrics of each slice. */
  sliceGates?: SliceRule[];
  /**
   * Relative gate (keel.yaml `gate.min_delta_vs_production`): when a production version of the
   * model exists, the candidate's out-of-fold scores and production's scores on the same rows are
   * compared by a paired bootstrap; the lower end of the 95% interval of the ROC-AUC difference
   * must reach minDelta. The comparison itself is stored as an artifact whenever production exists.
   */
  championGate?: { minDelta: number; resamples?: number };
  /** Category input columns to break the report's metrics down by. */
  slices?: string[];
  /** Trials cross-validated at once on worker threads (default 1). */
  workers?: number;
  /** Stop a trial after two folds when its two-fold ROC-AUC trails the best earlier two-fold mean by more than this (default 0.01). */
  pruneMargin?: number;
  store: TrackingStore;
  artifacts: ArtifactStore;
  gitCommit?: string | null;
  /** Notes about the data and progress lines, for stderr. */
  onMessage?: (line: string) => void;
  onTrial?: (trial: Trial, search: { done: number; planned: number; best: Trial | null }) => void;
}

export interface TrainTableResult {
  runId: string;
  model: { name: string; version: number };
  search: SearchResult;
  target: { name: string; positive: string; negative: string; positives: number };
  rows: number;
  features: ColumnSpec[];
  notes: string[];
  seconds: number;
  gate?: GateVerdict;
  report: { data: EvaluationReport; json: ArtifactRef; html: ArtifactRef };
  /** Champion versus challenger on the same rows, when a production version exists. */
  comparison?: ChampionComparison & { artifact: ArtifactRef };
}

export interface ChampionComparison {
  production: { name: string; version: number; runId: string | null } | null;
  rows: number;
  /** null when production could not score these rows (the reason says why). */
  bootstrap: Omit<PairedBootstrap, 'deltas'> | null;
  reason: string;
}

const YES_LIKE = /^(yes|y|true|t|1|1\.0|positive|pos)$/i;
/** Text columns with at most this many distinct values become categories; more is free text, ignored. */
const MAX_TEXT_CATEGORIES = 200;

/** A valid registry name from a file name: `data/Telco Churn.csv` → `Telco-Churn`. */
export function modelNameFromFile(file: string): string {
  const stem = basename(file, extname(file))
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '');
  return stem || 'model';
}

/** The positive class: the given one, else the one yes/true/1-like class, else the minority (ties: the later name). */
export function choosePositive(
  counts: Map<string, number>,
  given?: string,
): { positive: string; negative: string; why: string } {
  const classes = [...counts.keys()].sort();
  if (given !== undefined) {
    if (!counts.has(given))
      throw new KeelError(
        'KEEL_E_USAGE',
        `--positive "${given}" is not a class of the target (classes: ${classes.join(', ')})`,
      );
    return { positive: given, negative: classes.find((c) => c !== given) as string, why: '--positive' };
  }
  const yes = classes.filter((c) => YES_LIKE.test(c));
  if (yes.length === 1)
    return { positive: yes[0], negative: classes.find((c) => c !== yes[0]) as string, why: 'yes-like label' };
  const [a, b] = classes;
  const minority = (counts.get(a) as number) < (counts.get(b) as number) ? a : b;
  return { positive: minority, negative: minority === a ? b : a, why: 'minority class' };
}

function missingCount(frame: Frame, name: string): number {
  const c = frame.col(name);
  let n = 0;
  if (c.kind === 'numeric') for (const v of c.values) n += Number.isNaN(v) ? 1 : 0;
  else if (c.kind === 'categorical') for (const v of c.codes) n += v < 0 ? 1 : 0;
  else for (const v of c.values) n += v === null ? 1 : 0;
  return n;
}

/** Read, prepare, search, refit and register. Throws KeelError naming the file or column on bad input. */
export async function trainTable(options: TrainTableOptions): Promise<TrainTableResult> {
  const t0 = performance.now();
  const { file, target } = options;
  const say = options.onMessage ?? (() => {});
  const notes: string[] = [];
  const note = (s: string) => {
    notes.push(s);
    say(s);
  };
  const read = await readCsv(file);
  let frame = read.frame;
  if (!frame.has(target))
    throw new KeelError(
      'KEEL_E_USAGE',
      `--target "${target}" is not a column of ${file} (columns: ${frame.names.join(', ')})`,
    );
  for (const d of options.drop ?? [])
    if (!frame.has(d)) throw new KeelError('KEEL_E_USAGE', `--drop "${d}" is not a column of ${file}`);
  if (frame.nRows === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${file} has no data rows`, { file });

  // The target: rows without a label are left out; two classes are required.
  const labels: (string | null)[] = Array.from({ length: frame.nRows }, (_, r) => {
    const v = frame.value(target, r);
    return v === null ? null : String(v);
  });
  const counts = new Map<string, number>();
  for (const l of labels) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  const unlabeled = labels.filter((l) => l === null).length;
  if (counts.size < 2)
    throw new KeelError(
      'KEEL_E_TARGET',
      counts.size === 0
        ? `the target "${target}" in ${file} is missing in every row`
        : `the target "${target}" in ${file} has a single class "${[...counts.keys()][0]}": nothing to learn`,
    );
  if (counts.size > 2)
    throw new KeelError(
      'KEEL_E_TARGET',
      `the target "${target}" in ${file} has ${counts.size} classes; keel train handles two (a binary target)`,
    );
  const { positive, negative, why } = choosePositive(counts, options.positive);
  const folds = options.folds ?? 5;
  for (const [c, n] of counts)
    if (n < folds)
      throw new KeelError(
        'KEEL_E_TARGET',
        `the target "${target}" in ${file} has only ${n} rows of class "${c}", fewer than the ${folds} folds`,
      );
  if (unlabeled > 0) {
    note(`${unlabeled} rows have no "${target}" value and are left out`);
    frame = frame.take(Int32Array.from(labels.flatMap((l, r) => (l === null ? [] : [r]))));
  }
  const kept = labels.filter((l): l is string => l !== null);
  const y = Float64Array.from(kept, (l) => (l === positive ? 1 : 0));
  const positives = y.reduce((a, b) => a + b, 0);
  note(
    `target "${target}": positive class "${positive}" (${why}; ${positives} of ${y.length} rows), negative "${negative}"`,
  );

  // The inputs: inferred types; ids and dropped columns out; text columns as categories.
  const dropped = new Set(options.drop ?? []);
  const features: ColumnSpec[] = [];
  const ignored: string[] = [];
  for (const spec of read.schema.columns) {
    if (spec.name === target || dropped.has(spec.name)) continue;
    if (spec.role === 'id') {
      ignored.push(`${spec.name} (a unique text id)`);
      continue;
    }
    if (spec.type === 'string') {
      const col = frame.col(spec.name);
      const values = col.kind === 'string' ? col.values : [];
      const distinct = new Set(values.filter((v) => v !== null));
      if (distinct.size > MAX_TEXT_CATEGORIES) {
        ignored.push(`${spec.name} (free text, ${distinct.size} distinct values)`);
        continue;
      }
      const column = categoricalColumn(values);
      frame = frame.withColumn(spec.name, column);
      features.push({ ...spec, type: 'category', allowed: [...column.categories] });
      continue;
    }
    features.push(spec);
  }
  if (features.length === 0)
    throw new KeelError(
      'KEEL_E_INPUT',
      `${file} has no usable input columns besides the target "${target}"`,
      {
        file,
      },
    );
  const sliceColumns = [...(options.slices ?? [])];
  for (const r of options.sliceGates ?? []) if (!sliceColumns.includes(r.column)) sliceColumns.push(r.column);
  for (const c of sliceColumns)
    if (!features.some((f) => f.name === c && f.type === 'category'))
      throw new KeelError(
        'KEEL_E_USAGE',
        `${(options.slices ?? []).includes(c) ? '--slice' : 'keel.yaml gate.slices:'} "${c}" is not a category input column of ${file}`,
      );
  if (ignored.length > 0) note(`not used as inputs: ${ignored.join(', ')}`);
  const cats = features.filter((f) => f.type === 'category').map((f) => f.name);
  if (cats.length > 0) note(`categories (one-hot encoded): ${cats.join(', ')}`);
  const missing = features
    .map((f) => [f.name, missingCount(frame, f.name)] as const)
    .filter(([, n]) => n > 0);
  if (missing.length > 0)
    note(
      `missing values (blank, ?, NA, N/A, NaN, null): ${missing.map(([c, n]) => `${c} ${n}`).join(', ')}; ` +
        'numbers get the median plus a missing indicator, categories no one-hot bit',
    );

  const store = options.store;
  const experiment = options.experiment ?? 'train';
  const name = options.name ?? modelNameFromFile(file);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new KeelError(
      'KEEL_E_USAGE',
      `--name "${name}" is not a valid model name (letters, digits, _ . -)`,
    );
  const seed = options.seed ?? 42;
  const run = await store.createRun({
    experiment,
    name: `train ${basename(file)}`,
    tags: { 'keel.command': 'train', 'keel.target': target, 'keel.positive': positive },
    gitCommit: options.gitCommit ?? null,
  });
  try {
    await store.logDatasetInput(run.id, {
      name: basename(file),
      sha256: read.source.sha256,
      source: file,
      rows: frame.nRows,
      context: 'train',
    });
    await store.logParams(run.id, {
      'data.file': file,
      'data.rows': frame.nRows,
      'data.features': features.length,
      target,
      positive,
      'cv.folds': folds,
      seed,
    });
    await store.logMetrics(run.id, {
      'data.positives': positives,
      'data.positive_rate': positives / y.length,
    });
    await store.setTags(run.id, { 'keel.notes': notes.join('\n') });
    const splitter = stratifiedKFold({ k: folds, seed });
    const prepared = prepareFolds({ frame, y, columns: features }, splitter);
    const families = options.families ?? defaultFamilies();
    const result = await search(prepared, splitter, {
      families,
      method: options.method ?? 'random',
      trials: options.trials,
      timeBudgetMs: options.timeBudgetMs,
      seed,
      pruneMargin: options.pruneMargin ?? 0.01,
      workers: options.workers,
      tracking: { store, artifacts: options.artifacts, experiment, parentRunId: run.id },
      onTrial: options.onTrial,
    });

    const best = result.best;
    // The evaluation report from the winner's out-of-fold predictions (every row scored by a model
    // that did not see it), with permutation importance and a SHAP summary from the first fold's model.
    const winner = families.find((f) => f.name === best.family) as ModelFamily;
    say(`evaluation report: out-of-fold predictions of ${best.family}`);
    const oof = new Float64Array(frame.nRows);
    let importance: Record<string, number> = {};
    let shap: ReturnType<typeof shapOf> = null;
    for (const f of prepared) {
      const clf = winner.make(best.params, seed).fit(f.train, f.yTrain);
      const proba = clf.predictProba(f.test);
      for (let i = 0; i < proba.length; i++) oof[f.testRows[i]] = proba[i];
      if (f.fold === 0) {
        importance = permutationImportance((X) => clf.predictProba(X), f.test, f.yTest, {
          nRepeats: 3,
          seed,
        }).mean;
        shap = shapOf(clf, f.test, f.train);
      }
    }
    const report = evaluationReport({
      title: `${best.family} on ${basename(file)}: out-of-fold evaluation (${splitter.name})`,
      y,
      proba: oof,
      classes: { positive, negative },
      importance: { method: 'permutation, mean drop in ROC-AUC on fold 1', values: importance },
      ...(shap ? { shap } : {}),
      slices: sliceColumns.map((column) => ({
        column,
        values: Array.from({ length: frame.nRows }, (_, r) => {
          const v = frame.value(column, r);
          return v === null ? null : String(v);
        }),
      })),
      bootstrap: { resamples: 200, seed },
      notes,
    });
    const reportJson = await options.artifacts.put(
      'reports/evaluation.json',
      JSON.stringify(report, null, 2),
    );
    const reportHtml = await options.artifacts.put('reports/evaluation.html', renderReportHtml(report));
    await store.logArtifact(run.id, reportJson);
    await store.logArtifact(run.id, reportHtml);
    await store.logMetrics(run.id, {
      'oof.roc_auc': report.metrics.roc_auc.value,
      'oof.roc_auc.ci_low': report.metrics.roc_auc.ci[0],
      'oof.roc_auc.ci_high': report.metrics.roc_auc.ci[1],
      'oof.threshold': report.threshold.value,
      'oof.f1': report.metrics.f1.value,
    });

    // Champion versus challenger: production (if any) scores the same rows; the paired bootstrap
    // compares it with the candidate's out-of-fold scores, stored as an artifact.
    let comparison: (ChampionComparison & { artifact: ArtifactRef }) | undefined;
    const current = await store.getModelVersionByAlias(name, 'production').catch((e: unknown) => {
      if (e instanceof KeelError && e.code === 'KEEL_E_NOT_FOUND') return null; // no such model yet
      throw e;
    });
    let relative: GateCheck | null = null;
    if (current) {
      let c: ChampionComparison;
      const production = { name, version: current.version, runId: current.runId };
      try {
        const prod = Model.fromJSON(
          JSON.parse((await options.artifacts.get(current.artifact)).toString('utf8')),
        );
        const prodProba = prod.predictFrame(frame).probability;
        const g = championGate(y, oof, prodProba, {
          minDelta: options.championGate?.minDelta ?? 0,
          resamples: options.championGate?.resamples ?? 1000,
          seed,
        });
        const { deltas: _d, ...boot } = g.bootstrap;
        c = {
          production,
          rows: y.length,
          bootstrap: boot,
          reason:
            `ROC-AUC on the same ${y.length} rows: candidate ${boot.challenger.toFixed(4)} (out-of-fold) vs production ` +
            `v${current.version} ${boot.champion.toFixed(4)}, delta ${boot.delta.toFixed(4)}, 95% CI ` +
            `[${boot.ci[0].toFixed(4)}, ${boot.ci[1].toFixed(4)}] (paired bootstrap, ${boot.resamples} resamples; ` +
            'production may have been trained on some of these rows, which favours it)',
        };
        relative = { ...g.checks[0], name: 'roc_auc delta vs production (CI low)' };
      } catch (e) {
        c = {
          production,
          rows: y.length,
          bootstrap: null,
          reason: `production v${current.version} could not score these rows: ${e instanceof Error ? e.message : String(e)}`,
        };
        relative = {
          name: 'roc_auc delta vs production (CI low)',
          value: Number.NaN,
          threshold: options.championGate?.minDelta ?? 0,
          op: '>=',
          passed: false,
          detail: c.reason,
        };
      }
      const artifact = await options.artifacts.put(
        'reports/champion_challenger.json',
        JSON.stringify(c, null, 2),
      );
      await store.logArtifact(run.id, artifact);
      if (c.bootstrap)
        await store.logMetrics(run.id, {
          'production.roc_auc': c.bootstrap.champion,
          'production.delta_roc_auc': c.bootstrap.delta,
          'production.delta_roc_auc.ci_low': c.bootstrap.ci[0],
        });
      comparison = { ...c, artifact };
      say(`champion vs challenger: ${c.reason}`);
    }

    let gate: GateVerdict | undefined;
    const checks: GateCheck[] = [];
    if (options.gate && options.gate.length > 0) checks.push(...absoluteGate(best.mean, options.gate).checks);
    if (options.sliceGates && options.sliceGates.length > 0)
      checks.push(...sliceGate(report.slices, options.sliceGates).checks);
    if (options.championGate && relative) checks.push(relative);
    if (checks.length > 0) {
      gate = verdict(checks);
      await recordGate(store, run.id, gate);
      const judged = [
        options.gate?.length ? 'mean CV metrics' : '',
        options.sliceGates?.length ? 'out-of-fold slices' : '',
        options.championGate && relative ? 'vs production' : '',
      ]
        .filter(Boolean)
        .join(', ');
      say(
        `quality gate (${judged} of ${best.family}): ${gate.passed ? 'passed' : 'FAILED'}; ${gate.reasons.join('; ')}`,
      );
      assertGate(gate, `${best.family} (${judged} in ${file}); nothing was registered`);
    }

    // Refit the winner on every row and register it.
    say(`refitting ${best.family} on all ${frame.nRows} rows`);
    const pipeline = new FeaturePipeline({ columns: features }).fit(frame);
    const classifier = winner.make(best.params, seed).fit(pipeline.transform(frame), y);
    const signature: Signature = {
      inputs: features,
      target: { name: target, classes: [negative, positive], positive },
    };
    const model = new Model({
      pipeline,
      classifier,
      signature,
      metadata: {
        candidate: best.family,
        params: best.params,
        runId: run.id,
        trainedAt: new Date().toISOString(),
        trainRows: frame.nRows,
        cv: { splitter: splitter.name, roc_auc: best.mean.roc_auc, roc_auc_std: best.std.roc_auc },
        chosenThreshold: report.threshold.value,
      },
    });
    const artifact = await options.artifacts.put('model/model.json', JSON.stringify(model.toJSON()));
    await store.logArtifact(run.id, artifact);
    const mv = await store.createModelVersion({
      name,
      runId: run.id,
      artifact,
      description: `${best.family}, CV roc_auc ${best.mean.roc_auc.toFixed(4)} ± ${best.std.roc_auc.toFixed(4)} (keel train)`,
      actor: 'keel train',
    });
    await store.setTags(run.id, { 'keel.model': `${name}/${mv.version}` });
    await store.endRun(run.id, 'FINISHED');
    return {
      runId: run.id,
      model: { name, version: mv.version },
      search: result,
      target: { name: target, positive, negative, positives },
      rows: frame.nRows,
      features,
      notes,
      seconds: (performance.now() - t0) / 1000,
      ...(gate ? { gate } : {}),
      report: { data: report, json: reportJson, html: reportHtml },
      ...(comparison ? { comparison } : {}),
    };
  } catch (e) {
    await store.endRun(run.id, 'FAILED', e instanceof Error ? e.message : String(e)).catch(() => {});
    throw e;
  }
}

/**
 * How many rows the SHAP summary explains: 1,000, or fewer (at least 200) when exact TreeSHAP
 * would cost more than SHAP_BUDGET steps. Its cost per row is the sum over trees of leaves x
 * (depth + 1)^2 (Lundberg et al.'s algorithm), ~4 ns a step here: 60 random-forest trees of
 * depth 10 with ~1,000 leaves each cost ~6M steps a row (a Telco forest: 23 s for 1,000 rows),
 * 200 boosted trees of depth 6 ~0.5M.
 */
const SHAP_BUDGET = 5e8;
export function shapRows(
  trees: readonly { feature: Int32Array; left: Int32Array; right: Int32Array }[],
): number {
  let cost = 0;
  for (const t of trees) {
    const stack = [0, 0];
    while (stack.length) {
      const depth = stack.pop()!;
      const n = stack.pop()!;
      if (t.feature[n] === -1) cost += (depth + 1) ** 2;
      else stack.push(t.left[n], depth + 1, t.right[n], depth + 1);
    }
  }
  return Math.max(200, Math.min(1000, Math.floor(SHAP_BUDGET / Math.max(1, cost))));
}

/**
 * The SHAP summary of a fitted classifier on rows X: TreeSHAP for tree ensembles, exact linear
 * SHAP (coefficient times the value minus its training mean) for logistic regression; null for
 * other classifiers. Per feature: mean |SHAP| and mean SHAP.
 */
function shapOf(
  clf: Classifier,
  X: Matrix,
  train: Matrix,
): { method: string; rows: number; values: Record<string, { meanAbs: number; mean: number }> } | null {
  const d = X.nCols;
  const trees =
    clf instanceof GradientBoostingClassifier || clf instanceof RandomForestClassifier ? clf.trees_ : [];
  const rows = Math.min(X.nRows, shapRows(trees));
  const sample: Matrix = { ...X, nRows: rows, data: X.data.subarray(0, rows * d) };
  let values: Float64Array;
  let method: string;
  if (clf instanceof GradientBoostingClassifier || clf instanceof RandomForestClassifier) {
    values = treeShap(clf, sample).values;
    method = `TreeSHAP on ${rows} rows of fold 1 (${clf instanceof GradientBoostingClassifier ? 'log-odds' : 'probability'})`;
  } else if (clf instanceof LogisticRegression) {
    const mean = new Float64Array(d);
    for (let r = 0; r < train.nRows; r++) for (let j = 0; j < d; j++) mean[j] += train.data[r * d + j];
    for (let j = 0; j < d; j++) mean[j] /= Math.max(1, train.nRows);
    values = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < d; j++) values[r * d + j] = clf.coef_[j] * (sample.data[r * d + j] - mean[j]);
    method = `linear SHAP on ${rows} rows of fold 1 (log-odds)`;
  } else return null;
  const abs = meanAbsShap({ values, nRows: rows, nCols: d, names: X.names, baseValue: 0 } as Parameters<
    typeof meanAbsShap
  >[0]);
  const out: Record<string, { meanAbs: number; mean: number }> = {};
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m += values[r * d + j];
    out[X.names[j]] = { meanAbs: abs[X.names[j]], mean: m / Math.max(1, rows) };
  }
  return { method, rows, values: out };
}
