/**
 * `keel train` end to end: the real binary on synthetic churn data (with '?', 'NA' and blank
 * cells), the command in-process for bad input and tracking, and the real Telco data.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnCsv, readCsv } from '../src/data/index.js';
import { Model } from '../src/learn/index.js';
import { openArtifactStore, openStore } from '../src/track/index.js';
import { keel, sharedFile } from './cli.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-train-'));
const cwd = process.cwd();
const telco = sharedFile('data', 'telco_churn.csv');
if (!telco && process.env.CI)
  throw new Error('../shared/data/telco_churn.csv not found (set KEEL_SHARED_DIR)');

/** Synthetic churn CSV with some cells replaced by '?', 'NA' and blanks. */
function churnWithMissing(file: string, rows: number, seed: number): void {
  const lines = churnCsv({ rows, seed }).trimEnd().split('\n');
  const header = lines[0].split(',');
  const tenure = header.indexOf('tenure');
  const contract = header.indexOf('contract');
  const out = lines.map((line, i) => {
    if (i === 0 || i % 37 !== 0) return line;
    const cells = line.split(',');
    cells[tenure] = i % 2 ? '?' : 'NA';
    cells[contract] = '';
    return cells.join(',');
  });
  writeFileSync(file, `${out.join('\n')}\n`);
}

beforeAll(() => {
  process.chdir(dir);
  process.env.KEEL_LOG_FORMAT = 'json';
  churnWithMissing(join(dir, 'churn.csv'), 1500, 4);
});
afterAll(() => {
  process.chdir(cwd);
});

describe('keel train', () => {
  it('the real binary: leaderboard search on synthetic churn, JSON last line, tracked and registered', async () => {
    const r = keel(
      ['train', 'churn.csv', '--target', 'churn', '--trials', '3', '--seed', '1', '--json'],
      dir,
    );
    expect(r.stderr).toMatch(/positive class "Yes"/);
    expect(r.stderr).toMatch(/missing values \(blank, \?, NA.*\): tenure 40, .*contract 40/);
    expect(r.stderr).toMatch(/not used as inputs: customer_id/);
    expect(r.stderr).toMatch(/trial {2}3\/3/);
    expect(r.code).toBe(0);
    const last = r.stdout.trimEnd().split('\n').at(-1) as string;
    const doc = JSON.parse(last);
    expect(doc.best.model).toMatch(/^(logistic_regression|random_forest|gradient_boosting)$/);
    expect(doc.best.roc_auc).toBeGreaterThan(0.75);
    expect(doc.best.roc_auc_std).toBeGreaterThan(0);
    expect(doc.leaderboard).toHaveLength(3);
    expect(doc.leaderboard[0].roc_auc).toBe(doc.best.roc_auc);
    const aucs = doc.leaderboard.map((l: { roc_auc: number }) => l.roc_auc);
    expect(aucs).toEqual([...aucs].sort((a, b) => b - a));
    expect(doc.model_version).toBe(1);
    expect(doc.model_name).toBe('churn');
    expect(doc.stopped_by).toBe('trials');
    expect(doc.gate.passed).toBe(true);
    expect(doc.gate.reasons[0]).toMatch(/^pass: roc_auc 0\.\d{4} >= 0\.7$/);

    const store = await openStore(join(dir, '.keel', 'keel.db'));
    try {
      const run = await store.getRun(doc.run_id);
      expect(run.status).toBe('FINISHED');
      expect(run.tags['keel.best_model']).toBe(doc.best.model);
      expect(run.tags['keel.gate']).toBe('passed');
      expect(run.metrics['best.cv.roc_auc.mean']).toBeCloseTo(doc.best.roc_auc, 12);
      expect(run.inputs[0].rows).toBe(1500);
      expect(run.artifacts.map((a) => a.name).sort()).toEqual([
        'model/model.json',
        'reports/evaluation.html',
        'reports/evaluation.json',
        'select/leaderboard.json',
      ]);
      expect(run.metrics['oof.roc_auc']).toBeCloseTo(doc.report.oof_roc_auc, 12);
      expect(doc.report.oof_roc_auc_ci[0]).toBeLessThan(doc.report.oof_roc_auc);
      expect(readFileSync(doc.report.html, 'utf8')).toMatch(/^<!doctype html>/);
      const children = (await store.listRuns({ experiment: 'train' })).filter((x) => x.id !== doc.run_id);
      expect(children).toHaveLength(3);
      for (const c of children)
        expect((await store.getRun(c.id)).tags['keel.parent_run_id']).toBe(doc.run_id);
      const mv = await store.getModelVersion('churn', 1);
      expect(mv.runId).toBe(doc.run_id);
      const model = Model.fromJSON(
        JSON.parse(
          (await openArtifactStore(join(dir, '.keel', 'artifacts')).get(mv.artifact)).toString('utf8'),
        ),
      );
      expect(model.signature.target).toEqual({ name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' });
      const { frame } = await readCsv(join(dir, 'churn.csv'), undefined);
      const p = model.predictFrame(frame.select(model.signature.inputs.map((c) => c.name)).take([0, 1, 2]));
      expect(p.probability.every((v) => v > 0 && v < 1)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('in-process: prints a leaderboard table; same seed, same result; a second run is version 2', async () => {
    const a = await keelIn(
      'train',
      'churn.csv',
      '--target',
      'churn',
      '--trials',
      '2',
      '--seed',
      '1',
      '--name',
      'c2',
      '--search',
      'random',
    );
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/rank\s+model\s+roc_auc\s+std/);
    expect(a.out).toMatch(/Registered: c2 version 1/);
    const b = await keelIn(
      'train',
      'churn.csv',
      '--target',
      'churn',
      '--trials',
      '2',
      '--seed',
      '1',
      '--name',
      'c2',
      '--json',
      '-q',
    );
    expect(b.code).toBe(0);
    const doc = JSON.parse(b.out.trim().split('\n').at(-1) as string);
    expect(doc.model_version).toBe(2);
    expect(a.out).toContain(`CV ROC-AUC ${doc.best.roc_auc.toFixed(4)}`);
    expect(b.err).not.toMatch(/trial/);
  });

  it('--positive, --drop, the minority class and halving search', async () => {
    const r = await keelIn(
      'train',
      'churn.csv',
      '--target',
      'churn',
      '--positive',
      'No',
      '--drop',
      'tenure',
      '--drop',
      'contract',
      '--search',
      'halving',
      '--trials',
      '3',
      '--folds',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/positive class "No" \(--positive/);
    expect(r.err).not.toMatch(/tenure \d+|contract \d+/);
    const doc = JSON.parse(r.out.trim().split('\n').at(-1) as string);
    expect(doc.leaderboard.length).toBe(1);
    expect(doc.target.positive).toBe('No');
    // A numeric 0/1-free two-class target: the minority class is positive.
    writeFileSync(
      join(dir, 'ab.csv'),
      `x,label\n${Array.from({ length: 60 }, (_, i) => `${i},${i % 4 === 0 ? 'rare' : 'common'}`).join('\n')}\n`,
    );
    // x carries no signal: the project's quality gate (min_roc_auc 0.7) stops it and nothing is registered.
    const m = await keelIn('train', 'ab.csv', '--target', 'label', '--trials', '1', '--folds', '3', '--json');
    expect(m.err).toMatch(/positive class "rare" \(minority class; 15 of 60 rows\)/);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(
      /error: quality gate failed for logistic_regression \(mean CV metrics in ab.csv\); nothing was registered: FAIL: roc_auc 0\.\d+ >= 0\.7/,
    );
    expect(m.out).toBe('');
    const store = await openStore(join(dir, '.keel', 'keel.db'));
    try {
      await expect(store.getRegisteredModel('ab')).rejects.toThrow(/ab/);
      const failed = (await store.listRuns({ experiment: 'train', limit: 5 })).find(
        (x) => x.name === 'train ab.csv',
      );
      expect(failed?.status).toBe('FAILED');
      expect((await store.getRun(failed?.id as string)).tags['keel.gate']).toBe('failed');
    } finally {
      await store.close();
    }
    const ungated = await keelIn(
      'train',
      'ab.csv',
      '--target',
      'label',
      '--trials',
      '1',
      '--folds',
      '3',
      '--no-gate',
      '--json',
    );
    expect(ungated.code).toBe(0);
    expect(JSON.parse(ungated.out.trim()).gate).toBeNull();
  });

  it('bad input: one clear line naming the file or column, non-zero exit', async () => {
    const missing = await keelIn('train', 'nope.csv', '--target', 'churn');
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('error: data file not found: nope.csv');
    const col = await keelIn('train', 'churn.csv', '--target', 'Churn');
    expect(col.code).toBe(2);
    expect(col.err.trim().split('\n')).toHaveLength(1);
    expect(col.err).toMatch(/--target "Churn" is not a column of churn.csv/);
    writeFileSync(join(dir, 'one.csv'), 'a,b\n1,x\n2,x\n3,x\n');
    const single = await keelIn('train', 'one.csv', '--target', 'b');
    expect(single.code).toBe(1);
    expect(single.err.trim()).toBe(
      'error: the target "b" in one.csv has a single class "x": nothing to learn',
    );
    const three = await keelIn('train', 'one.csv', '--target', 'a');
    expect(three.code).toBe(1);
    expect(three.err).toMatch(/has 3 classes/);
    const pos = await keelIn('train', 'churn.csv', '--target', 'churn', '--positive', 'maybe');
    expect(pos.code).toBe(2);
    expect(pos.err).toMatch(/--positive "maybe" is not a class of the target \(classes: No, Yes\)/);
    const budget = await keelIn('train', 'churn.csv', '--target', 'churn', '--time-budget', 'soon');
    expect(budget.code).toBe(2);
    expect(budget.err).toMatch(/--time-budget expects a duration/);
    const drop = await keelIn('train', 'churn.csv', '--target', 'churn', '--drop', 'zzz');
    expect(drop.code).toBe(2);
    expect(drop.err).toMatch(/--drop "zzz" is not a column of churn.csv/);
    const slice = await keelIn('train', 'churn.csv', '--target', 'churn', '--slice', 'tenure');
    expect(slice.code).toBe(2);
    expect(slice.err).toMatch(/--slice "tenure" is not a category input column of churn.csv/);
  });

  it('--help explains every option', async () => {
    const r = await keelIn('train', '--help');
    expect(r.code).toBe(0);
    for (const o of [
      '--target',
      '--drop',
      '--positive',
      '--time-budget',
      '--trials',
      '--folds',
      '--seed',
      '--search',
      '--name',
      '--workers',
      '--slice',
      '--report',
      '--no-gate',
      '--experiment',
      '--json',
      '--quiet',
    ])
      expect(r.out).toContain(o);
    expect(r.out).toMatch(/default: 60s/);
  });

  it.skipIf(!telco)('the real Telco data: best 5-fold CV ROC-AUC >= 0.83 with three trials', async () => {
    const html = join(dir, 'telco-report.html');
    const r = await keelIn(
      'train',
      telco as string,
      '--target',
      'Churn',
      '--trials',
      '3',
      '--json',
      '--name',
      'telco',
      '--slice',
      'Contract',
      '--report',
      html,
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out.trim().split('\n').at(-1) as string);
    expect(doc.best.roc_auc).toBeGreaterThanOrEqual(0.83);
    expect(doc.best.roc_auc_std).toBeLessThan(0.03);
    expect(doc.rows).toBe(7043);
    expect(doc.target).toMatchObject({ positive: 'Yes', positives: 1869 });
    expect(r.err).toMatch(/missing values .*TotalCharges 11/);
    expect(r.err).toMatch(/not used as inputs: customerID/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<td>Month-to-month</td>');
    expect(doc.report.html).toBe(html);
    expect(doc.report.threshold).toBeGreaterThan(0);
  });

  // What scikit-learn 1.2.1 and XGBoost 1.7.4 reach on the same data with sensible settings, 5-fold
  // stratified CV (test/fixtures/telco_peers.py): LR 0.8455, RF 0.8450, HistGradientBoosting
  // 0.8466, XGBoost 0.8491. Issue 6: keel train's best CV ROC-AUC within 0.005 of the best.
  const PEER_BEST_CV_AUC = 0.8491;
  it.skipIf(!telco)(
    'the real Telco data: the four families reach the peers’ best CV ROC-AUC within 0.005',
    async () => {
      const r = await keelIn(
        'train',
        telco as string,
        '--target',
        'Churn',
        '--trials',
        '8',
        '--json',
        '--name',
        'telco4',
      );
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out.trim().split('\n').at(-1) as string);
      expect(Object.keys(doc).slice(0, 4)).toEqual(['best', 'leaderboard', 'run_id', 'model_version']);
      expect(Object.keys(doc.best).slice(0, 3)).toEqual(['model', 'roc_auc', 'roc_auc_std']);
      expect(doc.best.roc_auc).toBeGreaterThanOrEqual(PEER_BEST_CV_AUC - 0.005);
      const four = ['logistic_regression', 'random_forest', 'extra_trees', 'gradient_boosting'];
      for (const row of doc.leaderboard) expect(four).toContain(row.model);
      expect(doc.leaderboard[0].roc_auc).toBe(doc.best.roc_auc);
    },
  );
});
