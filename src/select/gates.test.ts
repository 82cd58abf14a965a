import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { logLoss, rocAuc } from '../learn/index.js';
import { openStore } from '../track/index.js';
import { absoluteGate, assertGate, championGate, pairedBootstrap, recordGate, sliceGate } from './index.js';

/** Labels from a latent score; two models that see the latent with little and with much noise. */
function twoModels(n: number, seed: number) {
  const rng = new Rng(seed);
  const y = new Float64Array(n);
  const good = new Float64Array(n);
  const poor = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    y[i] = z + 0.5 * rng.normal() > 0.3 ? 1 : 0;
    good[i] = 1 / (1 + Math.exp(-(z + 0.3 * rng.normal())));
    poor[i] = 1 / (1 + Math.exp(-(z + 1.5 * rng.normal())));
  }
  return { y, good, poor };
}

describe('absoluteGate', () => {
  it('checks min and max thresholds and explains each', () => {
    const v = absoluteGate({ roc_auc: 0.84, log_loss: 0.6 }, [
      { metric: 'roc_auc', min: 0.8 },
      { metric: 'log_loss', max: 0.5 },
    ]);
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual(['pass: roc_auc 0.8400 >= 0.8', 'FAIL: log_loss 0.6000 <= 0.5']);
    expect(absoluteGate({ roc_auc: 0.84 }, [{ metric: 'roc_auc', min: 0.8, max: 0.9 }]).passed).toBe(true);
    // a missing or NaN metric fails; a gate without checks fails closed
    expect(absoluteGate({ roc_auc: Number.NaN }, [{ metric: 'roc_auc', min: 0.5 }]).passed).toBe(false);
    expect(absoluteGate({}, [{ metric: 'f1', min: 0 }]).passed).toBe(false);
    expect(absoluteGate({ roc_auc: 1 }, []).passed).toBe(false);
    expect(() => absoluteGate({}, [{ metric: 'f1' }])).toThrow(/needs min or max/);
    expect(() => assertGate(v, 'gbdt')).toThrow(/quality gate failed for gbdt: FAIL: log_loss 0.6000 <= 0.5/);
    expect(() => assertGate(absoluteGate({ f1: 0.5 }, [{ metric: 'f1', min: 0.4 }]))).not.toThrow();
  });
});

describe('pairedBootstrap and championGate', () => {
  const { y, good, poor } = twoModels(800, 3);

  it('the weighted ROC-AUC equals scikit-style ROC-AUC on materialized resamples', () => {
    const fast = pairedBootstrap(y, good, poor, { resamples: 50, seed: 9 });
    const slow = pairedBootstrap(y, good, poor, { resamples: 50, seed: 9, metric: rocAuc });
    expect(fast.delta).toBeCloseTo(rocAuc(y, good) - rocAuc(y, poor), 12);
    expect(fast.challenger).toBeCloseTo(rocAuc(y, good), 12);
    expect(fast.deltas.length).toBe(50);
    for (let i = 0; i < 50; i++) expect(fast.deltas[i]).toBeCloseTo(slow.deltas[i], 12);
    // ties: a constant model has ROC-AUC 0.5
    expect(pairedBootstrap(y, good, new Float64Array(800).fill(0.5), { resamples: 10 }).champion).toBe(0.5);
  });

  it('a clearly better challenger passes; a worse one and an identical one do not', () => {
    const better = championGate(y, good, poor, { resamples: 400, seed: 1 });
    expect(better.passed).toBe(true);
    expect(better.bootstrap.delta).toBeGreaterThan(0.05);
    expect(better.bootstrap.ci[0]).toBeGreaterThan(0);
    expect(better.bootstrap.ci[0]).toBeLessThan(better.bootstrap.delta);
    expect(better.bootstrap.ci[1]).toBeGreaterThan(better.bootstrap.delta);
    expect(better.bootstrap.pNotBetter).toBe(0);
    expect(better.reasons[0]).toMatch(
      /^pass: roc_auc delta vs champion \(CI low\) 0\.\d{4} >= 0 \(delta 0\.\d{4}, 95% CI/,
    );
    const worse = championGate(y, poor, good, { resamples: 400, seed: 1 });
    expect(worse.passed).toBe(false);
    expect(worse.bootstrap.pNotBetter).toBe(1);
    const same = championGate(y, good, good, { resamples: 100 });
    expect(same.bootstrap.ci).toEqual([0, 0]);
    expect(same.passed).toBe(true); // delta 0 >= minDelta 0
    expect(championGate(y, good, good, { resamples: 100, minDelta: 0.001 }).passed).toBe(false);
    // a demanding margin fails even a better model
    expect(championGate(y, good, poor, { resamples: 200, minDelta: 0.5 }).passed).toBe(false);
  });

  it('is deterministic for a seed and works with other metrics (log loss: lower is better, so negate)', () => {
    const a = pairedBootstrap(y, good, poor, { resamples: 100, seed: 5 });
    const b = pairedBootstrap(y, good, poor, { resamples: 100, seed: 5 });
    expect(a.deltas).toEqual(b.deltas);
    const nll = championGate(y, good, poor, { resamples: 100, metric: (yy, p) => -logLoss(yy, p) });
    expect(nll.passed).toBe(true);
    expect(nll.checks[0].name).toBe('metric delta vs champion (CI low)');
    expect(() => pairedBootstrap([1, 0], [0.5], [0.5, 0.5])).toThrow(/2 labels, 1 challenger/);
  });

  it('records the verdict on a run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-gates-'));
    const store = await openStore(join(dir, 'keel.db'));
    try {
      const run = await store.createRun({ experiment: 'gates' });
      const v = absoluteGate({ roc_auc: 0.7 }, [{ metric: 'roc_auc', min: 0.8 }]);
      await recordGate(store, run.id, v);
      const r = await store.getRun(run.id);
      expect(r.tags['keel.gate']).toBe('failed');
      expect(r.tags['keel.gate.reasons']).toBe('FAIL: roc_auc 0.7000 >= 0.8');
      expect(r.metrics['gate.roc_auc']).toBe(0.7);
    } finally {
      await store.close();
    }
  });

  it('per-slice gate: every slice with enough rows meets the minimums; small slices are not judged', () => {
    const slices = [
      { column: 'plan', value: 'basic', rows: 400, roc_auc: 0.82, f1: 0.6, recall: 0.7 },
      { column: 'plan', value: 'pro', rows: 120, roc_auc: 0.66, f1: 0.5, recall: 0.4 },
      { column: 'plan', value: 'trial', rows: 12, roc_auc: 0.2, f1: 0, recall: 0 },
      { column: 'region', value: 'x', rows: 500, roc_auc: 0.9, f1: 0.7, recall: 0.8 },
    ];
    const v = sliceGate(slices, [{ column: 'plan', min_roc_auc: 0.7, min_recall: 0.3 }]);
    expect(v.passed).toBe(false);
    expect(v.checks.map((c) => [c.name, c.passed])).toEqual([
      ['slice plan=basic roc_auc', true],
      ['slice plan=basic recall', true],
      ['slice plan=pro roc_auc', false],
      ['slice plan=pro recall', true],
    ]);
    expect(sliceGate(slices, [{ column: 'plan', min_roc_auc: 0.6 }]).passed).toBe(true);
    expect(sliceGate(slices, [{ column: 'plan', min_roc_auc: 0.6, min_rows: 10 }]).passed).toBe(false);
    expect(() => sliceGate(slices, [{ column: 'nope', min_roc_auc: 0.6 }])).toThrow(
      /no slices of the column "nope"/,
    );
    expect(() => sliceGate(slices, [{ column: 'plan' }])).toThrow(/needs min_roc_auc, min_f1 or min_recall/);
  });
});
