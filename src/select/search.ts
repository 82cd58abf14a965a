/**
 * Hyperparameter search across model families: random search, grid search and successive
 * halving (the resource is the number of CV folds), with budgets by trials and by time.
 * Candidates are a pure function of the seed and the trial number, so a search with a trial
 * budget is deterministic; a time budget only decides how many of those candidates run.
 * Every finished trial can be recorded as a child run of a parent run (tag keel.parent_run_id).
 */
import { KeelError, Rng } from '../core/index.js';
import type { ArtifactRef, ArtifactStore, TrackingStore } from '../track/index.js';
import {
  aggregate,
  type CvData,
  type CvResult,
  evaluateFolds,
  type FoldResult,
  lowerIsBetter,
  type MetricName,
  type MetricSpec,
  metricNames,
  type PreparedFold,
  prepareFolds,
} from './cross-validate.js';
import {
  type Candidate,
  defaultFamilies,
  gridCandidates,
  type ModelFamily,
  type Params,
  sampleCandidate,
} from './space.js';
import type { Splitter } from './splitters.js';
import { TrialPool } from './trial-pool.js';

export type SearchMethod = 'random' | 'grid' | 'halving';

/** Where trials are recorded: child runs of `parentRunId` in `experiment`. */
export interface SearchTracking {
  store: TrackingStore;
  artifacts?: ArtifactStore;
  experiment: string;
  parentRunId: string;
}

export interface SearchOptions {
  families?: ModelFamily[];
  method?: SearchMethod;
  /** At most this many trials (halving: the number of starting candidates). Default 30 (grid: the whole grid). */
  trials?: number;
  /** Start no trial (and no further fold) after this many milliseconds; the first trial always runs. */
  timeBudgetMs?: number;
  seed?: number;
  /** The metric to optimize (default roc_auc; log_loss is minimized, the rest maximized). */
  metric?: string;
  metrics?: MetricSpec[];
  /** Random search and halving start with each family's defaults (default true). */
  includeDefaults?: boolean;
  /** Grid points per numeric parameter (default 3). */
  gridPoints?: number;
  /** Successive halving keeps the best 1/eta at each rung (default 3). */
  eta?: number;
  /**
   * Early stopping of hopeless trials (random and grid search): every trial first runs two folds;
   * it stops there (status 'pruned') when its mean over those two folds is worse by more than this
   * margin than the best two-fold mean of the trials before it (same folds, so like is compared
   * with like, and the decision depends only on earlier trials: deterministic with workers too).
   * Off by default.
   */
  pruneMargin?: number;
  tracking?: SearchTracking;
  /**
   * Cross-validate this many trials at once on worker threads (default 1: on the calling thread).
   * Only for the default families and built-in metrics; mid-trial time stops need 1.
   */
  workers?: number;
  /** Called after every trial ends (complete, pruned, halted or timed out). */
  onTrial?: (trial: Trial, search: { done: number; planned: number; best: Trial | null }) => void;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

export type TrialStatus = 'complete' | 'pruned' | 'halted' | 'timeout';

export interface Trial {
  index: number;
  family: string;
  params: Params;
  status: TrialStatus;
  /** Per-fold results for the folds that ran. */
  folds: FoldResult[];
  mean: Record<string, number>;
  std: Record<string, number>;
  seconds: number;
  /** Successive halving: the last rung the trial reached (0-based). */
  rung?: number;
  runId?: string;
}

export interface LeaderboardRow {
  rank: number;
  trial: number;
  family: string;
  params: Params;
  mean: Record<string, number>;
  std: Record<string, number>;
  seconds: number;
  runId?: string;
}

export interface SearchResult {
  method: SearchMethod;
  splitter: string;
  metric: string;
  seed: number;
  trials: Trial[];
  best: Trial;
  /** Complete trials, best first (ties: lower trial number). */
  leaderboard: LeaderboardRow[];
  seconds: number;
  stoppedBy: 'trials' | 'time' | 'exhausted';
  /** The parent run's leaderboard artifact, when an artifact store was given. */
  artifact?: ArtifactRef;
  /** Worker threads used (1 = the calling thread). */
  workers: number;
}

/** Trial i's own random stream: independent of how many trials ran before it. */
function trialRng(seed: number, i: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
}

/** The i-th random-search candidate: the families' defaults first, then families in turn with sampled parameters. */
export function randomCandidate(
  families: readonly ModelFamily[],
  i: number,
  seed: number,
  includeDefaults = true,
): Candidate {
  const F = families.length;
  if (includeDefaults && i < F) return { family: families[i].name, params: { ...families[i].defaults } };
  return sampleCandidate(families[i % F], trialRng(seed, i));
}

/** Every family's grid, each shuffled with the seed, interleaved family by family. */
export function gridPlan(families: readonly ModelFamily[], points: number, seed: number): Candidate[] {
  const grids = families.map((f, j) => new Rng(seed + j).shuffle(gridCandidates(f, points)));
  const out: Candidate[] = [];
  for (let i = 0; out.length < grids.reduce((a, g) => a + g.length, 0); i++)
    for (const g of grids) if (i < g.length) out.push(g[i]);
  return out;
}

/** Fold counts per rung of successive halving: k, k/eta, k/eta², … down to 1, ascending. */
export function halvingRungs(k: number, eta: number): number[] {
  const rungs: number[] = [];
  for (let f = k; f >= 1; f = Math.floor(f / eta)) {
    rungs.unshift(f);
    if (f === 1) break;
  }
  return rungs;
}

/** Is a better than b on this metric? */
function better(metric: string, a: number, b: number): boolean {
  return lowerIsBetter.has(metric) ? a < b : a > b;
}

function compareTrials(metric: string) {
  return (a: Trial, b: Trial): number => {
    const x = a.mean[metric];
    const y = b.mean[metric];
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) {
      if (Number.isNaN(x)) return 1;
      if (Number.isNaN(y)) return -1;
      return better(metric, x, y) ? -1 : 1;
    }
    return a.index - b.index;
  };
}

/**
 * Search the families' spaces with cross-validation on `data` split by `splitter` (the feature
 * pipeline is fitted per fold, once, and shared by all trials). Returns every trial, the best
 * complete trial and a leaderboard; records trials as child runs when `tracking` is given.
 */
export async function search(
  data: CvData | readonly PreparedFold[],
  splitter: Splitter,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const families = options.families ?? defaultFamilies();
  if (families.length === 0) throw new KeelError('KEEL_E_USAGE', 'search needs at least one model family');
  const byName = new Map(families.map((f) => [f.name, f]));
  const method = options.method ?? 'random';
  const seed = options.seed ?? 42;
  const metric = options.metric ?? 'roc_auc';
  const metrics = options.metrics ?? [...metricNames];
  if (!metrics.some((m) => (typeof m === 'string' ? m : m.name) === metric))
    throw new KeelError('KEEL_E_USAGE', `the search metric "${metric}" is not among the metrics computed`);
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const budget = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const outOfTime = () => now() - t0 >= budget;
  const folds = Array.isArray(data)
    ? (data as readonly PreparedFold[])
    : prepareFolds(data as CvData, splitter);
  const includeDefaults = options.includeDefaults ?? true;
  const trials: Trial[] = [];
  let best: Trial | null = null;
  let stoppedBy: SearchResult['stoppedBy'] = 'trials';
  const cmp = compareTrials(metric);

  const finish = async (trial: Trial, planned: number): Promise<void> => {
    if (options.tracking) trial.runId = await recordTrial(options.tracking, trial, metric, splitter.name);
    if (trial.status === 'complete' && (!best || cmp(trial, best) < 0)) best = trial;
    options.onTrial?.(trial, { done: trials.length, planned, best });
  };

  /** Run folds [from, to) of a candidate, appending to its fold results; false when stopped early. */
  const runFolds = (trial: Trial, from: number, to: number): TrialStatus | null => {
    const family = byName.get(trial.family) as ModelFamily;
    let stopped: TrialStatus | null = null;
    const done = [...trial.folds];
    const cv: CvResult = evaluateFolds(
      () => family.make(trial.params, seed),
      folds.slice(from, to),
      metrics,
      splitter.name,
      (r) => {
        done.push(r);
        if (done.length < to && trials.length > 1 && outOfTime()) {
          stopped = 'timeout';
          return false;
        }
        return true;
      },
    );
    trial.folds.push(...cv.folds);
    trial.seconds += cv.seconds;
    Object.assign(trial, aggregate(trial.folds));
    return stopped;
  };

  const newTrial = (index: number, c: Candidate): Trial => {
    if (!byName.has(c.family)) throw new KeelError('KEEL_E_USAGE', `unknown model family "${c.family}"`);
    const t: Trial = {
      index,
      family: c.family,
      params: c.params,
      status: 'complete',
      folds: [],
      mean: {},
      std: {},
      seconds: 0,
    };
    trials.push(t);
    return t;
  };

  // Worker threads for the default families and built-in metrics; anything else runs here.
  const defaults = defaultFamilies();
  const workers = options.workers ?? 1;
  const parallel =
    workers > 1 &&
    families.every((f) => defaults.includes(f)) &&
    metrics.every((m): m is MetricName => typeof m === 'string');
  const pool = parallel ? new TrialPool(workers, folds) : null;

  /** Run folds [from, to) of a trial: on a worker (no mid-trial stops) or here. */
  const runTrial = async (trial: Trial, from: number, to: number): Promise<TrialStatus | null> => {
    if (!pool) return runFolds(trial, from, to);
    const r = await pool.run({
      family: trial.family,
      params: trial.params,
      seed,
      from,
      to,
      metrics: metrics as MetricName[],
    });
    trial.folds.push(...r.folds);
    trial.seconds += r.seconds;
    Object.assign(trial, aggregate(trial.folds));
    return null;
  };

  try {
    if (method === 'random' || method === 'grid') {
      const plan = method === 'grid' ? gridPlan(families, options.gridPoints ?? 3, seed) : null;
      const limit = Math.min(
        options.trials ?? (plan ? plan.length : 30),
        plan ? plan.length : Number.POSITIVE_INFINITY,
      );
      if (plan && limit === plan.length) stoppedBy = 'exhausted';
      const inflight = new Set<Promise<void>>();
      const margin = options.pruneMargin;
      const stage = margin !== undefined && folds.length > 2 ? 2 : folds.length;
      /** Per trial: its mean over the first-stage folds (NaN when it stopped before them). */
      const firstMeans: Promise<number>[] = [];
      const bestOf = (xs: number[]): number => {
        let b = Number.NaN;
        for (const x of xs) if (Number.isFinite(x) && (Number.isNaN(b) || better(metric, x, b))) b = x;
        return b;
      };
      for (let i = 0; i < limit; i++) {
        if (i > 0 && outOfTime()) {
          stoppedBy = 'time';
          break;
        }
        const c = plan ? plan[i] : randomCandidate(families, i, seed, includeDefaults);
        const trial = newTrial(i, c);
        let resolveFirst: (v: number) => void = () => {};
        firstMeans.push(new Promise<number>((r) => (resolveFirst = r)));
        const earlier = firstMeans.slice(0, i);
        const p: Promise<void> = (async () => {
          let status: TrialStatus | null;
          try {
            status = await runTrial(trial, 0, stage);
          } finally {
            resolveFirst(trial.folds.length >= stage ? (trial.mean[metric] ?? Number.NaN) : Number.NaN);
          }
          if (!status && stage < folds.length) {
            if (margin !== undefined) {
              const ref = bestOf(await Promise.all(earlier));
              const m = trial.mean[metric];
              const gap = lowerIsBetter.has(metric) ? m - ref : ref - m;
              if (gap > margin) status = 'pruned';
            }
            if (!status && trials.length > 1 && outOfTime()) status = 'timeout';
            if (!status) status = await runTrial(trial, stage, folds.length);
          }
          trial.status = status ?? 'complete';
          await finish(trial, limit);
        })();
        inflight.add(p);
        p.then(
          () => inflight.delete(p),
          () => inflight.delete(p),
        );
        // one trial more than workers, so a trial between its two stages leaves no worker idle
        if (inflight.size >= (pool ? pool.size + 1 : 1)) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    } else if (method === 'halving') {
      const eta = options.eta ?? 3;
      if (!(eta >= 2)) throw new KeelError('KEEL_E_USAGE', `successive halving needs eta >= 2, got ${eta}`);
      const n0 = options.trials ?? 27;
      const rungs = halvingRungs(folds.length, eta);
      let alive = Array.from({ length: n0 }, (_, i) =>
        newTrial(i, randomCandidate(families, i, seed, includeDefaults)),
      );
      for (let r = 0; r < rungs.length && alive.length > 0; r++) {
        const running: Promise<void>[] = [];
        for (const [j, t] of alive.entries()) {
          if ((r > 0 || j > 0) && outOfTime()) {
            stoppedBy = 'time';
            t.status = 'timeout';
            continue;
          }
          t.rung = r;
          const p = runTrial(t, t.folds.length, rungs[r]).then((st) => {
            if (st) t.status = st;
          });
          running.push(p);
          if (!pool) await p;
          else if (running.length % pool.size === 0) await Promise.race(running);
        }
        await Promise.all(running);
        for (const t of alive) if (t.status !== 'complete') await finish(t, n0);
        const survivors = alive.filter((t) => t.status === 'complete');
        if (r === rungs.length - 1) {
          for (const t of survivors) await finish(t, n0);
          break;
        }
        survivors.sort(cmp);
        const keep = Math.max(1, Math.ceil(survivors.length / eta));
        for (const t of survivors.slice(keep)) {
          t.status = 'halted';
          await finish(t, n0);
        }
        alive = survivors.slice(0, keep);
      }
    } else throw new KeelError('KEEL_E_USAGE', `unknown search method "${method}" (random, grid, halving)`);
  } finally {
    await pool?.close();
  }

  const complete = trials.filter((t) => t.status === 'complete').sort(cmp);
  if (complete.length === 0)
    throw new KeelError(
      'KEEL_E_PIPELINE',
      'the search finished no trial: raise the time budget or the trials',
    );
  const leaderboard: LeaderboardRow[] = complete.map((t, i) => ({
    rank: i + 1,
    trial: t.index,
    family: t.family,
    params: t.params,
    mean: t.mean,
    std: t.std,
    seconds: t.seconds,
    ...(t.runId ? { runId: t.runId } : {}),
  }));
  const result: SearchResult = {
    method,
    splitter: splitter.name,
    metric,
    seed,
    trials,
    best: complete[0],
    leaderboard,
    seconds: (now() - t0) / 1000,
    stoppedBy,
    workers: pool ? pool.size : 1,
  };
  if (options.tracking) result.artifact = await recordSearch(options.tracking, result);
  return result;
}

const scalar = (v: unknown): string | number | boolean =>
  typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);

async function recordTrial(
  t: SearchTracking,
  trial: Trial,
  metric: string,
  splitter: string,
): Promise<string> {
  const run = await t.store.createRun({
    experiment: t.experiment,
    name: `trial ${trial.index} ${trial.family}`,
    tags: {
      'keel.parent_run_id': t.parentRunId,
      'keel.trial': String(trial.index),
      'keel.family': trial.family,
      'keel.trial.status': trial.status,
      'keel.cv.splitter': splitter,
    },
  });
  const params: Record<string, string | number | boolean> = { family: trial.family };
  for (const [k, v] of Object.entries(trial.params)) params[k] = scalar(v);
  await t.store.logParams(run.id, params);
  const m: Record<string, number> = { 'cv.folds': trial.folds.length, 'cv.seconds': trial.seconds };
  for (const k of Object.keys(trial.mean)) {
    m[`cv.${k}.mean`] = trial.mean[k];
    m[`cv.${k}.std`] = trial.std[k];
  }
  await t.store.logMetrics(run.id, finite(m));
  await t.store.logMetricBatch(
    run.id,
    trial.folds
      .filter((f) => Number.isFinite(f.metrics[metric]))
      .map((f) => ({ key: `cv.${metric}`, value: f.metrics[metric], step: f.fold })),
  );
  await t.store.endRun(run.id, 'FINISHED');
  return run.id;
}

function finite(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => Number.isFinite(v)));
}

async function recordSearch(t: SearchTracking, r: SearchResult): Promise<ArtifactRef | undefined> {
  const best = r.best;
  const params: Record<string, string | number | boolean> = {
    'search.method': r.method,
    'search.splitter': r.splitter,
    'search.metric': r.metric,
    'search.seed': r.seed,
    'search.trials': r.trials.length,
    'best.family': best.family,
  };
  for (const [k, v] of Object.entries(best.params)) params[`best.${k}`] = scalar(v);
  await t.store.logParams(t.parentRunId, params);
  const metrics: Record<string, number> = {
    'search.seconds': r.seconds,
    'search.trials_complete': r.leaderboard.length,
  };
  for (const k of Object.keys(best.mean)) {
    metrics[`best.cv.${k}.mean`] = best.mean[k];
    metrics[`best.cv.${k}.std`] = best.std[k];
  }
  await t.store.logMetrics(t.parentRunId, finite(metrics));
  // The search history: the best mean so far after each trial, step = trial number.
  let so: number | null = null;
  const history = [...r.trials]
    .sort((a, b) => a.index - b.index)
    .flatMap((trial) => {
      const v = trial.mean[r.metric];
      if (trial.status === 'complete' && Number.isFinite(v) && (so === null || better(r.metric, v, so)))
        so = v;
      return so === null ? [] : [{ key: `search.best_${r.metric}`, value: so, step: trial.index }];
    });
  await t.store.logMetricBatch(t.parentRunId, history);
  await t.store.setTags(t.parentRunId, {
    'keel.best_model': best.family,
    ...(best.runId ? { 'keel.best_trial_run_id': best.runId } : {}),
    'keel.search.stopped_by': r.stoppedBy,
  });
  if (!t.artifacts) return undefined;
  const doc = {
    method: r.method,
    splitter: r.splitter,
    metric: r.metric,
    seed: r.seed,
    seconds: r.seconds,
    stoppedBy: r.stoppedBy,
    best: { trial: best.index, family: best.family, params: best.params, mean: best.mean, std: best.std },
    leaderboard: r.leaderboard,
    trials: r.trials.map((x) => ({
      trial: x.index,
      family: x.family,
      params: x.params,
      status: x.status,
      folds: x.folds.length,
      mean: x.mean,
      std: x.std,
      seconds: x.seconds,
      runId: x.runId,
    })),
  };
  const ref = await t.artifacts.put('select/leaderboard.json', JSON.stringify(doc, null, 2));
  await t.store.logArtifact(t.parentRunId, ref);
  return ref;
}
