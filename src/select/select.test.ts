import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { churnSchema, Frame, featureSpecs, generateChurn, numericColumn } from '../data/index.js';
import { type Classifier, FeaturePipeline, LogisticRegression, type Matrix } from '../learn/index.js';
import { openArtifactStore, openStore } from '../track/index.js';
import {
  choice,
  crossValidate,
  defaultFamilies,
  extraTreesFamily,
  type Fold,
  gradientBoostingFamily,
  gridCandidates,
  gridPlan,
  gridValues,
  groupKFold,
  halvingRungs,
  int,
  kFold,
  logisticFamily,
  logUniform,
  type ModelFamily,
  prepareFolds,
  randomCandidate,
  repeatedStratifiedKFold,
  sample,
  search,
  stratifiedKFold,
  timeSeriesSplit,
  uniform,
} from './index.js';

function labels(n: number, positives: number, seed = 1): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < positives; i++) y[i] = 1;
  return new Rng(seed).shuffle(y);
}

function checkPartition(folds: Fold[], n: number): void {
  const tested = new Int32Array(n);
  for (const f of folds) {
    const train = new Set(f.train);
    for (const t of f.test) expect(train.has(t)).toBe(false);
    expect(f.train.length + f.test.length).toBe(n);
    for (const t of f.test) tested[t]++;
    expect([...f.test]).toEqual([...f.test].sort((a, b) => a - b));
  }
  expect(tested.every((c) => c === 1)).toBe(true);
}

describe('splitters', () => {
  it('kFold: sizes differ by at most one, every row tested once, seeded', () => {
    const folds = kFold({ k: 5, seed: 3 }).split({ n: 103 });
    expect(folds.map((f) => f.test.length)).toEqual([21, 21, 21, 20, 20]);
    checkPartition(folds, 103);
    expect(kFold({ k: 5, seed: 3 }).split({ n: 103 })).toEqual(folds);
    expect(kFold({ k: 5, seed: 4 }).split({ n: 103 })[0].test).not.toEqual(folds[0].test);
    const plain = kFold({ k: 4, shuffle: false }).split({ n: 8 });
    expect([...plain[0].test]).toEqual([0, 1]);
    expect([...plain[3].test]).toEqual([6, 7]);
    expect(() => kFold({ k: 1 })).toThrow(/k must be/);
    expect(() => kFold({ k: 5 }).split({ n: 3 })).toThrow(/3 rows cannot make 5 folds/);
  });

  it('stratifiedKFold keeps the class ratio in every fold (counts differ by at most one)', () => {
    const y = labels(1000, 137);
    const folds = stratifiedKFold({ k: 5, seed: 7 }).split({ n: 1000, y });
    checkPartition(folds, 1000);
    for (const f of folds) {
      expect(f.test.length).toBe(200);
      const pos = [...f.test].filter((i) => y[i] === 1).length;
      expect(pos === 27 || pos === 28).toBe(true);
    }
    expect(stratifiedKFold({ k: 5, seed: 7 }).split({ n: 1000, y })).toEqual(folds);
    expect(() => stratifiedKFold({ k: 5 }).split({ n: 10, y: labels(10, 3) })).toThrow(
      /class "1" has 3 rows, fewer than the 5 folds/,
    );
    expect(() => stratifiedKFold().split({ n: 10 })).toThrow(/needs one label per row/);
  });

  it('repeatedStratifiedKFold gives k x repeats folds with different shuffles', () => {
    const y = labels(200, 50);
    const folds = repeatedStratifiedKFold({ k: 4, repeats: 3, seed: 1 }).split({ n: 200, y });
    expect(folds).toHaveLength(12);
    checkPartition(folds.slice(0, 4), 200);
    checkPartition(folds.slice(8, 12), 200);
    expect(folds[0].test).not.toEqual(folds[4].test);
    for (const f of folds) {
      expect(f.test.length).toBe(50);
      expect([12, 13]).toContain([...f.test].filter((i) => y[i] === 1).length);
    }
  });

  it('groupKFold never puts one group on both sides and balances fold sizes', () => {
    const groups = Array.from({ length: 120 }, (_, i) => `g${i % 17}`);
    const folds = groupKFold({ k: 4 }).split({ n: 120, groups });
    checkPartition(folds, 120);
    for (const f of folds) {
      const trainGroups = new Set([...f.train].map((i) => groups[i]));
      for (const t of f.test) expect(trainGroups.has(groups[t])).toBe(false);
    }
    const sizes = folds.map((f) => f.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(8);
    expect(() => groupKFold({ k: 4 }).split({ n: 3, groups: ['a', 'b', 'a'] })).toThrow(
      /2 groups cannot make 4/,
    );
  });

  it('timeSeriesSplit trains only on the past', () => {
    const folds = timeSeriesSplit({ k: 3 }).split({ n: 20 });
    expect(folds.map((f) => [f.train.length, f.test[0], f.test.length])).toEqual([
      [5, 5, 5],
      [10, 10, 5],
      [15, 15, 5],
    ]);
    for (const f of folds) expect(Math.max(...f.train)).toBeLessThan(Math.min(...f.test));
    const gapped = timeSeriesSplit({ k: 2, gap: 2, maxTrainSize: 4 }).split({ n: 30 });
    expect([...gapped[1].train]).toEqual([14, 15, 16, 17]);
    expect(gapped[1].test[0]).toBe(20);
    expect(() => timeSeriesSplit({ k: 5 }).split({ n: 5 })).toThrow(/too few/);
  });
});

const churn = generateChurn({ rows: 1200, seed: 5 });
const columns = featureSpecs(churnSchema());
const y = Float64Array.from({ length: churn.nRows }, (_, r) => (churn.value('churn', r) === 'Yes' ? 1 : 0));
const data = { frame: churn, y, columns };

describe('crossValidate', () => {
  it('returns per-fold and aggregate metrics; deterministic', () => {
    const cv = crossValidate(
      () => new LogisticRegression({ C: 1 }),
      data,
      stratifiedKFold({ k: 5, seed: 1 }),
    );
    expect(cv.folds).toHaveLength(5);
    expect(cv.splitter).toBe('stratified_kfold(k=5, seed=1)');
    const aucs = cv.folds.map((f) => f.metrics.roc_auc);
    expect(cv.mean.roc_auc).toBeCloseTo(aucs.reduce((a, b) => a + b) / 5, 12);
    expect(cv.mean.roc_auc).toBeGreaterThan(0.7);
    expect(cv.std.roc_auc).toBeGreaterThan(0);
    expect(cv.folds.reduce((a, f) => a + f.testRows, 0)).toBe(1200);
    expect(Object.keys(cv.mean).sort()).toEqual([
      'accuracy',
      'f1',
      'log_loss',
      'precision',
      'recall',
      'roc_auc',
    ]);
    const again = crossValidate(
      () => new LogisticRegression({ C: 1 }),
      data,
      stratifiedKFold({ k: 5, seed: 1 }),
    );
    expect(again.mean).toEqual(cv.mean);
  });

  it('fits the feature pipeline on each fold training rows only (no leakage)', () => {
    // A column whose test-row values are huge: if the scaler saw them, the train rows' mean would move.
    const n = 100;
    const x = Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1e6 : i % 7));
    const frame = new Frame(['x'], [numericColumn(x)]);
    const yy = Float64Array.from({ length: n }, (_, i) => i % 2);
    const splitter = kFold({ k: 5, shuffle: false });
    const folds = prepareFolds(
      { frame, y: yy, columns: [{ name: 'x', type: 'number', nullable: false, role: 'feature' }] },
      splitter,
    );
    for (const f of folds) {
      const trainX = Array.from(f.trainRows, (r) => x[r]);
      const mean = trainX.reduce((a, b) => a + b) / trainX.length;
      const expected = new FeaturePipeline({
        columns: [{ name: 'x', type: 'number', nullable: false, role: 'feature' }],
      })
        .fit(frame.take(f.trainRows))
        .transform(frame.take(f.testRows));
      expect(f.test.data).toEqual(expected.data);
      // train matrix is standardized with train statistics: its mean is 0
      const m = f.train.data.reduce((a, b) => a + b, 0) / f.train.nRows;
      expect(Math.abs(m)).toBeLessThan(1e-9);
      expect(mean).toBeGreaterThan(0);
    }
  });

  it('accepts records with their columns and custom metrics', () => {
    const records = churn.toRecords(0, 300);
    const spy: number[] = [];
    const cv = crossValidate(
      () => {
        const lr = new LogisticRegression({ C: 0.5 });
        return {
          kind: 'spy',
          getParams: () => ({}),
          fit(X: Matrix, yy: Float64Array) {
            spy.push(X.nRows);
            lr.fit(X, yy);
            return this;
          },
          predictProba: (X: Matrix) => lr.predictProba(X),
          toJSON: () => ({}),
        } as Classifier;
      },
      { frame: records, y: y.slice(0, 300), columns },
      stratifiedKFold({ k: 3 }),
      ['roc_auc', { name: 'positives', fn: (yy) => yy.reduce((a, b) => a + b, 0) }],
    );
    expect(spy).toEqual([200, 200, 200]);
    expect(Object.keys(cv.mean)).toEqual(['roc_auc', 'positives']);
    expect(cv.folds.reduce((a, f) => a + f.metrics.positives, 0)).toBe(
      y.slice(0, 300).reduce((a, b) => a + b, 0),
    );
    expect(() => crossValidate(() => new LogisticRegression(), data, kFold(), ['auc' as 'roc_auc'])).toThrow(
      /unknown metric "auc"/,
    );
  });
});

describe('search spaces', () => {
  it('samples inside the bounds, deterministically', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 200; i++) {
      const u = sample(uniform(2, 3), rng) as number;
      expect(u >= 2 && u < 3).toBe(true);
      const l = sample(logUniform(1e-3, 10), rng) as number;
      expect(l >= 1e-3 && l <= 10).toBe(true);
      const k = sample(int(1, 4), rng) as number;
      expect([1, 2, 3, 4]).toContain(k);
      const kl = sample(int(1, 100, { log: true }), rng) as number;
      expect(Number.isInteger(kl) && kl >= 1 && kl <= 100).toBe(true);
      expect(['a', 'b']).toContain(sample(choice(['a', 'b']), rng));
    }
    // log-uniform: about half of the draws fall below the geometric middle
    const r2 = new Rng(1);
    const below = Array.from({ length: 2000 }, () => sample(logUniform(1e-4, 1), r2) as number).filter(
      (v) => v < 1e-2,
    );
    expect(below.length).toBeGreaterThan(900);
    expect(below.length).toBeLessThan(1100);
    expect(() => logUniform(0, 1)).toThrow(/low > 0/);
    expect(() => uniform(2, 1)).toThrow(/low <= high/);
    expect(() => choice([])).toThrow(/at least one/);
  });

  it('grids: linear, geometric, integer and choice values, full products', () => {
    expect(gridValues(uniform(0, 1), 3)).toEqual([0, 0.5, 1]);
    expect(gridValues(logUniform(0.01, 100), 3).map((v) => Number((v as number).toPrecision(6)))).toEqual([
      0.01, 1, 100,
    ]);
    expect(gridValues(int(1, 2), 5)).toEqual([1, 2]);
    expect(gridValues(choice(['x', 'y']))).toEqual(['x', 'y']);
    const fam: ModelFamily = {
      ...logisticFamily,
      space: { C: logUniform(0.1, 10), z: choice([true, false]) },
    };
    expect(gridCandidates(fam, 2)).toHaveLength(4);
    const plan = gridPlan(defaultFamilies(), 2, 1);
    expect(plan.slice(0, 4).map((c) => c.family)).toEqual([
      'logistic_regression',
      'random_forest',
      'extra_trees',
      'gradient_boosting',
    ]);
    expect(plan).toHaveLength(2 + 2 ** 3 * 3 + 2 ** 3 * 3 + 2 ** 6);
  });

  it('random candidates: defaults first, then families in turn, independent of earlier trials', () => {
    const fams = defaultFamilies();
    expect(randomCandidate(fams, 0, 1)).toEqual({ family: 'logistic_regression', params: { C: 1 } });
    expect(randomCandidate(fams, 2, 1)).toEqual({ family: 'extra_trees', params: extraTreesFamily.defaults });
    expect(randomCandidate(fams, 7, 1).family).toBe('gradient_boosting');
    expect(randomCandidate(fams, 7, 1)).toEqual(randomCandidate(fams, 7, 1));
    expect(randomCandidate(fams, 7, 1)).not.toEqual(randomCandidate(fams, 7, 2));
    expect(halvingRungs(5, 3)).toEqual([1, 5]);
    expect(halvingRungs(5, 2)).toEqual([1, 2, 5]);
    expect(halvingRungs(9, 3)).toEqual([1, 3, 9]);
  });
});

/** Cheap families so the search tests stay fast. */
const fast: ModelFamily[] = [
  logisticFamily,
  {
    ...gradientBoostingFamily,
    space: {
      nEstimators: int(5, 20),
      learningRate: logUniform(0.05, 0.3),
      maxDepth: int(2, 3),
      minChildSamples: int(10, 30),
      subsample: uniform(0.7, 1),
      lambda: logUniform(0.5, 2),
    },
    defaults: {
      nEstimators: 15,
      learningRate: 0.1,
      maxDepth: 3,
      minChildSamples: 20,
      subsample: 1,
      lambda: 1,
    },
  },
];

describe('search', () => {
  const folds = prepareFolds(data, stratifiedKFold({ k: 3, seed: 2 }));
  const splitter = stratifiedKFold({ k: 3, seed: 2 });

  it('random search: deterministic for a seed, leaderboard sorted, best = top', async () => {
    const a = await search(folds, splitter, { families: fast, trials: 6, seed: 11 });
    const b = await search(data, splitter, { families: fast, trials: 6, seed: 11 });
    expect(a.trials.map((t) => [t.family, t.params, t.mean.roc_auc])).toEqual(
      b.trials.map((t) => [t.family, t.params, t.mean.roc_auc]),
    );
    expect(a.trials).toHaveLength(6);
    expect(a.trials.map((t) => t.family)).toEqual([
      'logistic_regression',
      'gradient_boosting',
      'logistic_regression',
      'gradient_boosting',
      'logistic_regression',
      'gradient_boosting',
    ]);
    const means = a.leaderboard.map((r) => r.mean.roc_auc);
    expect(means).toEqual([...means].sort((x, y) => y - x));
    expect(a.best.mean.roc_auc).toBe(means[0]);
    expect(a.leaderboard[0].rank).toBe(1);
    expect(a.stoppedBy).toBe('trials');
    const c = await search(folds, splitter, { families: fast, trials: 6, seed: 12 });
    expect(c.trials[2].params).not.toEqual(a.trials[2].params);
  });

  it('runs trials on worker threads with the same results as on one thread', async () => {
    const small = generateChurn({ rows: 400, seed: 8 });
    const ys = Float64Array.from({ length: 400 }, (_, r) => (small.value('churn', r) === 'Yes' ? 1 : 0));
    const sp = stratifiedKFold({ k: 3, seed: 1 });
    const few = prepareFolds({ frame: small, y: ys, columns }, sp);
    const fams = defaultFamilies();
    const opts = { families: fams, seed: 5, metrics: ['roc_auc' as const, 'f1' as const] };
    const serial = await search(few, sp, { ...opts, trials: 4 });
    const threaded = await search(few, sp, { ...opts, trials: 4, workers: 2 });
    expect(threaded.workers).toBe(2);
    expect(serial.workers).toBe(1);
    expect(threaded.trials.map((t) => [t.family, t.params, t.folds.map((f) => f.metrics)])).toEqual(
      serial.trials.map((t) => [t.family, t.params, t.folds.map((f) => f.metrics)]),
    );
    // early stopping of hopeless trials decides from earlier trials' first two folds only: the
    // same trials stop on worker threads as on one thread
    const pruneOpts = { ...opts, trials: 8, pruneMargin: 0 };
    const p1 = await search(few, sp, pruneOpts);
    const p2 = await search(few, sp, { ...pruneOpts, workers: 2 });
    expect(p1.trials.some((t) => t.status === 'pruned')).toBe(true);
    expect(p2.trials.map((t) => [t.status, t.folds.length, t.folds.map((f) => f.metrics)])).toEqual(
      p1.trials.map((t) => [t.status, t.folds.length, t.folds.map((f) => f.metrics)]),
    );
    for (const t of p1.trials) expect(t.folds).toHaveLength(t.status === 'pruned' ? 2 : 3);
    // custom families cannot cross threads: the search stays on this thread
    expect((await search(few, sp, { families: fast, trials: 2, workers: 2 })).workers).toBe(1);
  });

  it('stops on the time budget (the first trial always runs)', async () => {
    let t = 0;
    const r = await search(folds, splitter, {
      families: fast,
      trials: 50,
      timeBudgetMs: 1000,
      now: () => (t += 200),
    });
    expect(r.stoppedBy).toBe('time');
    expect(r.trials.length).toBeGreaterThanOrEqual(1);
    expect(r.trials.length).toBeLessThan(5);
  });

  it('grid search runs the whole interleaved grid', async () => {
    const fams: ModelFamily[] = [{ ...logisticFamily, space: { C: logUniform(0.01, 1) } }];
    const r = await search(folds, splitter, { families: fams, method: 'grid', gridPoints: 3 });
    expect(r.trials.map((t) => Number((t.params.C as number).toPrecision(3))).sort((x, y) => x - y)).toEqual([
      0.01, 0.1, 1,
    ]);
    expect(r.stoppedBy).toBe('exhausted');
  });

  it('successive halving keeps the best third on more folds', async () => {
    const r = await search(folds, splitter, {
      families: fast,
      method: 'halving',
      trials: 9,
      eta: 3,
      seed: 3,
    });
    const complete = r.trials.filter((t) => t.status === 'complete');
    const halted = r.trials.filter((t) => t.status === 'halted');
    expect(complete).toHaveLength(3);
    expect(halted).toHaveLength(6);
    for (const t of complete) expect(t.folds).toHaveLength(3);
    for (const t of halted) expect(t.folds).toHaveLength(1);
    const worstKept = Math.min(...complete.map((t) => t.folds[0].metrics.roc_auc));
    for (const t of halted) expect(t.folds[0].metrics.roc_auc).toBeLessThanOrEqual(worstKept);
  });

  it('prunes hopeless trials', async () => {
    const bad: ModelFamily = {
      name: 'constant',
      space: {},
      defaults: {},
      make: () =>
        ({
          kind: 'constant',
          getParams: () => ({}),
          fit() {
            return this;
          },
          predictProba: (X: Matrix) => new Float64Array(X.nRows).fill(0.5),
          toJSON: () => ({}),
        }) as unknown as Classifier,
    };
    const five = prepareFolds(data, stratifiedKFold({ k: 5, seed: 2 }));
    const r = await search(five, stratifiedKFold({ k: 5, seed: 2 }), {
      families: [logisticFamily, bad],
      trials: 2,
      pruneMargin: 0.05,
    });
    expect(r.trials[1].status).toBe('pruned');
    expect(r.trials[1].folds).toHaveLength(2);
    expect(r.leaderboard).toHaveLength(1);
  });

  it('records each trial as a child run and the winner and leaderboard on the parent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-select-'));
    const store = await openStore(join(dir, 'keel.db'));
    const artifacts = openArtifactStore(join(dir, 'artifacts'));
    try {
      const parent = await store.createRun({ experiment: 'sel' });
      const r = await search(folds, splitter, {
        families: fast,
        trials: 4,
        tracking: { store, artifacts, experiment: 'sel', parentRunId: parent.id },
      });
      const runs = await store.listRuns({ experiment: 'sel' });
      expect(runs).toHaveLength(5);
      const child = await store.getRun(r.trials[1].runId as string);
      expect(child.tags['keel.parent_run_id']).toBe(parent.id);
      expect(child.params.family).toBe('gradient_boosting');
      expect(child.params.nEstimators).toBe('15');
      expect(child.metrics['cv.roc_auc.mean']).toBeCloseTo(r.trials[1].mean.roc_auc, 12);
      expect(child.metrics['cv.roc_auc.std']).toBeCloseTo(r.trials[1].std.roc_auc, 12);
      expect(child.status).toBe('FINISHED');
      expect((await store.metricHistory(child.id, 'cv.roc_auc')).map((p) => p.step)).toEqual([0, 1, 2]);
      const p = await store.getRun(parent.id);
      expect(p.tags['keel.best_model']).toBe(r.best.family);
      expect(p.tags['keel.best_trial_run_id']).toBe(r.best.runId);
      expect(p.params['best.family']).toBe(r.best.family);
      expect(p.metrics['best.cv.roc_auc.mean']).toBeCloseTo(r.best.mean.roc_auc, 12);
      expect((await store.metricHistory(parent.id, 'search.best_roc_auc')).length).toBe(4);
      const doc = JSON.parse((await artifacts.get(r.artifact as never)).toString('utf8'));
      expect(doc.leaderboard[0].family).toBe(r.best.family);
      expect(doc.trials).toHaveLength(4);
      expect(p.artifacts.map((a) => a.name)).toContain('select/leaderboard.json');
    } finally {
      await store.close();
    }
  });
});
