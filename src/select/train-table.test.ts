import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { churnSchema, featureSpecs, generateChurn } from '../data/index.js';
import { openArtifactStore, openStore } from '../track/index.js';
import { choosePositive, modelNameFromFile, prepareFolds, stratifiedKFold, trainTable } from './index.js';
import { logisticFamily } from './space.js';
import { shapRows } from './train-table.js';
import { TrialPool } from './trial-pool.js';
import { runTask, toWire } from './trial-runner.js';

describe('trainTable helpers', () => {
  it('names models after files and picks the positive class', () => {
    expect(modelNameFromFile('data/Telco Churn (v2).csv')).toBe('Telco-Churn-v2');
    expect(modelNameFromFile('/x/__.csv')).toBe('model');
    const counts = (o: Record<string, number>) => new Map(Object.entries(o));
    expect(choosePositive(counts({ no: 90, yes: 10 }))).toEqual({
      positive: 'yes',
      negative: 'no',
      why: 'yes-like label',
    });
    expect(choosePositive(counts({ '0': 10, '1': 90 })).positive).toBe('1');
    expect(choosePositive(counts({ TRUE: 50, FALSE: 50 })).positive).toBe('TRUE');
    expect(choosePositive(counts({ cat: 30, dog: 70 }))).toEqual({
      positive: 'cat',
      negative: 'dog',
      why: 'minority class',
    });
    expect(choosePositive(counts({ a: 5, b: 5 })).positive).toBe('b');
    expect(choosePositive(counts({ no: 9, yes: 1 }), 'no').positive).toBe('no');
    expect(() => choosePositive(counts({ no: 9, yes: 1 }), 'maybe')).toThrow(
      /--positive "maybe" is not a class/,
    );
  });
});

describe('trainTable', () => {
  it('text columns: few values become categories, free text and ids are left out; unlabeled rows are dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-train-table-'));
    const rng = new Rng(3);
    const lines = ['id,city,note,score,label'];
    for (let i = 0; i < 300; i++) {
      const city = `city${i % 60}`;
      const score = rng.normal() + (i % 60 < 20 ? 1.2 : 0);
      const label = i % 50 === 7 ? '' : score + 0.5 * rng.normal() > 0.6 ? 'churned' : 'stayed';
      lines.push(`u${i},${city},note ${i % 250},${i % 17 === 0 ? '?' : score.toFixed(3)},${label}`);
    }
    const file = join(dir, 'mixed.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const store = await openStore(join(dir, 'keel.db'));
    const messages: string[] = [];
    try {
      const r = await trainTable({
        file,
        target: 'label',
        trials: 2,
        folds: 3,
        families: [logisticFamily],
        store,
        artifacts: openArtifactStore(join(dir, 'artifacts')),
        onMessage: (m) => messages.push(m),
        gate: [{ metric: 'roc_auc', min: 0.6 }],
      });
      expect(r.rows).toBe(294);
      expect(r.features.map((f) => [f.name, f.type])).toEqual([
        ['city', 'category'],
        ['score', 'number'],
      ]);
      expect(r.features[0].allowed).toHaveLength(60);
      expect(messages.join('\n')).toMatch(/6 rows have no "label" value and are left out/);
      expect(messages.join('\n')).toMatch(
        /not used as inputs: id \(a unique text id\), note \(free text, \d+ distinct values\)/,
      );
      expect(messages.join('\n')).toMatch(/missing values .*: score 18;/);
      expect(r.target.positive).toBe('churned');
      expect(r.gate?.passed).toBe(true);
      expect(r.search.best.mean.roc_auc).toBeGreaterThan(0.7);
      expect(r.model).toEqual({ name: 'mixed', version: 1 });
      const run = await store.getRun(r.runId);
      expect(run.params['data.features']).toBe('2');
      expect(run.tags['keel.notes']).toMatch(/left out/);
    } finally {
      await store.close();
    }
  });
});

describe('trainTable gates', () => {
  it('per-slice gate, champion vs challenger against production on the same rows, and the relative gate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-train-gates-'));
    const rng = new Rng(5);
    // the signal is strong in region a and absent in region c: c's ROC-AUC is near 0.5
    const lines = ['region,x,noise,label'];
    for (let i = 0; i < 600; i++) {
      const region = ['a', 'b', 'c'][i % 3];
      const x = rng.normal();
      const z = region === 'c' ? rng.normal() : 2 * x + 0.5 * rng.normal();
      lines.push(`${region},${x.toFixed(4)},${rng.normal().toFixed(4)},${z > 0.3 ? 'yes' : 'no'}`);
    }
    const file = join(dir, 'regions.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const store = await openStore(join(dir, 'keel.db'));
    const artifacts = openArtifactStore(join(dir, 'artifacts'));
    const base = { file, target: 'label', trials: 1, folds: 3, families: [logisticFamily], store, artifacts };
    try {
      // slice gate: region c cannot reach 0.7, so the run fails and nothing is registered
      await expect(
        trainTable({ ...base, sliceGates: [{ column: 'region', min_roc_auc: 0.7, min_rows: 30 }] }),
      ).rejects.toMatchObject({ code: 'KEEL_E_GATE', message: /slice region=c roc_auc/ });
      await expect(store.getModelVersionByAlias('regions', 'production')).rejects.toMatchObject({
        code: 'KEEL_E_NOT_FOUND', // nothing registered: not even the model name exists
      });
      const failed = (await store.searchRuns({})).runs.find((r) => r.tags['keel.gate'] === 'failed');
      expect(failed?.status).toBe('FAILED');
      expect(failed?.tags['keel.gate.reasons']).toMatch(
        /pass: slice region=a roc_auc .*FAIL: slice region=c roc_auc/s,
      );

      // a first version, made production; no production yet, so no comparison
      const first = await trainTable({ ...base, sliceGates: [{ column: 'region', min_roc_auc: 0.4 }] });
      expect(first.comparison).toBeUndefined();
      expect(first.report.data.slices.map((s) => s.value).sort()).toEqual(['a', 'b', 'c']);
      expect(first.report.data.shap?.features[0].name).toBe('x');
      await store.setAlias('regions', 'production', first.model.version, { actor: 'test', reason: 'test' });

      // the same model again: the comparison is stored; beating production by 0.01 is not possible
      await expect(
        trainTable({ ...base, championGate: { minDelta: 0.01, resamples: 200 } }),
      ).rejects.toMatchObject({
        code: 'KEEL_E_GATE',
        message: /roc_auc delta vs production \(CI low\)/,
      });
      // non-inferiority (a bounded loss allowed) passes, and the comparison is an artifact of the run
      const second = await trainTable({ ...base, championGate: { minDelta: -0.05, resamples: 200 } });
      expect(second.gate?.passed).toBe(true);
      const c = second.comparison;
      expect(c?.production?.version).toBe(first.model.version);
      expect(c?.rows).toBe(600);
      expect(c?.bootstrap?.resamples).toBeGreaterThan(150);
      expect(c?.bootstrap?.ci[0]).toBeLessThanOrEqual(c?.bootstrap?.delta as number);
      const stored = JSON.parse((await artifacts.get(c!.artifact)).toString('utf8'));
      expect(stored.reason).toMatch(/paired bootstrap/);
      const run = await store.getRun(second.runId);
      expect(run.metrics['production.delta_roc_auc.ci_low']).toBeCloseTo(c!.bootstrap!.ci[0], 10);
    } finally {
      await store.close();
    }
  });
});

describe('TrialPool', () => {
  it('runs the work on the calling thread when its worker cannot start', async () => {
    const frame = generateChurn({ rows: 300, seed: 2 });
    const y = Float64Array.from({ length: 300 }, (_, r) => (frame.value('churn', r) === 'Yes' ? 1 : 0));
    const folds = prepareFolds({ frame, y, columns: featureSpecs(churnSchema()) }, stratifiedKFold({ k: 3 }));
    const pool = new TrialPool(1, folds, new URL('data:text/javascript,throw new Error("no worker here")'));
    try {
      const task = {
        family: 'logistic_regression',
        params: { C: 1 },
        seed: 1,
        from: 0,
        to: 3,
        metrics: ['roc_auc' as const],
      };
      const r = await pool.run(task);
      expect(pool.fallbacks).toBe(1);
      const direct = runTask(folds.map(toWire), { ...task, id: 0 });
      expect('folds' in direct && direct.folds.map((f) => f.metrics)).toEqual(r.folds.map((f) => f.metrics));
      await expect(pool.run({ ...task, family: 'nope' })).rejects.toThrow(/unknown model family "nope"/);
    } finally {
      await pool.close();
    }
  });
});

describe('shapRows', () => {
  /** A complete binary tree of the given depth (2^depth leaves), as left/right/feature arrays. */
  const complete = (depth: number) => {
    const n = 2 ** (depth + 1) - 1;
    const internal = 2 ** depth - 1;
    return {
      feature: Int32Array.from({ length: n }, (_, i) => (i < internal ? 0 : -1)),
      left: Int32Array.from({ length: n }, (_, i) => (i < internal ? 2 * i + 1 : -1)),
      right: Int32Array.from({ length: n }, (_, i) => (i < internal ? 2 * i + 2 : -1)),
    };
  };
  it('explains 1,000 rows when exact TreeSHAP is cheap, fewer (never under 200) when it is not', () => {
    expect(shapRows([])).toBe(1000);
    // 200 depth-3 trees: 200 x 8 leaves x 16 = 25,600 steps a row
    expect(shapRows(Array.from({ length: 200 }, () => complete(3)))).toBe(1000);
    // 60 depth-10 trees: 60 x 1024 x 121 = 7.4M steps a row -> 5e8 / 7.4M = 67, so the floor of 200
    expect(shapRows(Array.from({ length: 60 }, () => complete(10)))).toBe(200);
    // 20 depth-8 trees: 20 x 256 x 81 = 414,720 a row -> 1,205, capped at 1,000; 60 of them -> 401
    expect(shapRows(Array.from({ length: 20 }, () => complete(8)))).toBe(1000);
    expect(shapRows(Array.from({ length: 60 }, () => complete(8)))).toBe(401);
  });
});
