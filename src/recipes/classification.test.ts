import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { churnCsv, churnSchema } from '../data/index.js';
import { churnPipeline } from '../demo/churn-pipeline.js';
import { runPipeline } from '../pipeline/index.js';
import { openArtifactStore, openStore } from '../track/index.js';

describe('promoteIfBetter: champion versus challenger on the same test rows', () => {
  it('stores the paired-bootstrap comparison and, with gate.min_delta_vs_production, promotes by it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-promote-'));
    const data = join(dir, 'churn.csv');
    writeFileSync(data, churnCsv({ rows: 2000, seed: 4 }));
    const store = await openStore(join(dir, 'keel.db'));
    const artifacts = openArtifactStore(join(dir, 'artifacts'));
    const pipeline = churnPipeline(churnSchema(), { data, model: 'churn', seed: 42 });
    const run = (config: Record<string, unknown>) => runPipeline(pipeline, { store, artifacts, config });
    try {
      const first = await run({});
      expect(first.status).toBe('FINISHED');
      expect((await store.getRun(first.runId)).artifacts.map((a) => a.name)).not.toContain(
        'reports/champion_challenger.json',
      );
      // the same data and seed again: the delta is 0, so beating production by 0.05 cannot pass:
      // the relative gate fails the run, which registers nothing and keeps the comparison
      const second = await run({ gate: { min_delta_vs_production: 0.05 } });
      expect(second.status).toBe('FAILED');
      const r2 = await store.getRun(second.runId);
      expect(r2.tags['keel.gate']).toBe('failed');
      expect(r2.tags['keel.gate.reasons']).toMatch(
        /FAIL: roc_auc delta vs champion \(CI low\) 0\.0000 >= 0\.05 \(delta 0\.0000, 95% CI .*\) vs production v1/,
      );
      const ref = r2.artifacts.find((a) => a.name === 'reports/champion_challenger.json');
      expect(ref).toBeDefined();
      const doc = JSON.parse((await artifacts.get(ref!)).toString('utf8'));
      expect(doc).toMatchObject({
        production: { version: 1 },
        candidate: { version: null },
        promoted: false,
      });
      expect(doc.bootstrap.resamples).toBeGreaterThan(900);
      expect((await store.listModelVersions('churn')).map((v) => v.version)).toEqual([1]);
      expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(1);
      // a bounded loss allowed (non-inferiority): the gate passes, version 2 is registered and the
      // bootstrap promotes it
      const third = await run({ gate: { min_delta_vs_production: -0.05 } });
      expect(third.status).toBe('FINISHED');
      const r3 = await store.getRun(third.runId);
      expect(r3.tags['keel.promotion']).toMatch(/^promoted: .*paired bootstrap: delta 0\.0000, 95% CI/);
      const ref3 = r3.artifacts.find((a) => a.name === 'reports/champion_challenger.json');
      const doc3 = JSON.parse((await artifacts.get(ref3!)).toString('utf8'));
      expect(doc3).toMatchObject({ production: { version: 1 }, candidate: { version: 2 }, promoted: true });
      expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe('the pipeline gate per slice (keel.yaml gate.slices) on the test rows', () => {
  it('judges every slice of the column, fails the run on one below its minimum, and names a missing column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-slice-gate-'));
    const data = join(dir, 'churn.csv');
    writeFileSync(data, churnCsv({ rows: 2000, seed: 5 }));
    const store = await openStore(join(dir, 'keel.db'));
    const artifacts = openArtifactStore(join(dir, 'artifacts'));
    const pipeline = churnPipeline(churnSchema(), { data, model: 'churn', seed: 42 });
    const run = (config: Record<string, unknown>) => runPipeline(pipeline, { store, artifacts, config });
    try {
      const lenient = await run({
        gate: { slices: { internet_service: { min_roc_auc: 0.5, min_rows: 10 } } },
      });
      expect(lenient.status).toBe('FINISHED');
      const reasons = (await store.getRun(lenient.runId)).tags['keel.gate.reasons'];
      // every internet service type in the test rows is judged, each on its own rows
      expect(
        reasons.match(
          /pass: slice internet_service=(DSL|Fiber optic|No) roc_auc 0\.\d{4} >= 0\.5 \(\d+ rows\)/g,
        )?.length,
      ).toBe(3);
      // a slice with one class only has no ROC-AUC: it fails rather than passing unseen
      const oneClass = await run({ gate: { slices: { contract: { min_roc_auc: 0.5, min_rows: 10 } } } });
      expect(oneClass.status).toBe('FAILED');
      expect((await store.getRun(oneClass.runId)).tags['keel.gate.reasons']).toMatch(
        /FAIL: slice contract=Two year roc_auc NaN >= 0\.5/,
      );
      const strict = await run({ gate: { slices: { contract: { min_recall: 1.01 } } } });
      expect(strict.status).toBe('FAILED');
      const r = await store.getRun(strict.runId);
      expect(r.tags['keel.gate']).toBe('failed');
      expect(r.tags['keel.gate.reasons']).toMatch(
        /FAIL: slice contract=Month-to-month recall 0\.\d{4} >= 1\.01/,
      );
      expect((await store.listModelVersions('churn')).map((v) => v.version)).toEqual([1]);
      const missing = await run({ gate: { slices: { region: { min_f1: 0.1 } } } });
      expect(missing.status).toBe('FAILED');
      expect(missing.error?.message).toMatch(/gate\.slices: the test rows have no column "region"/);
    } finally {
      await store.close();
    }
  });
});
