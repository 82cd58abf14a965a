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
      // the same data and seed again: the delta is 0, so beating production by 0.05 cannot pass
      const second = await run({ gate: { min_delta_vs_production: 0.05 } });
      expect(second.status).toBe('FINISHED');
      const r2 = await store.getRun(second.runId);
      expect(r2.tags['keel.promotion']).toMatch(/^kept: .*paired bootstrap: delta 0\.0000, 95% CI/);
      const ref = r2.artifacts.find((a) => a.name === 'reports/champion_challenger.json');
      expect(ref).toBeDefined();
      const doc = JSON.parse((await artifacts.get(ref!)).toString('utf8'));
      expect(doc).toMatchObject({ production: { version: 1 }, candidate: { version: 2 }, promoted: false });
      expect(doc.bootstrap.resamples).toBeGreaterThan(900);
      expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(1);
      // a bounded loss allowed (non-inferiority): promoted
      const third = await run({ gate: { min_delta_vs_production: -0.05 } });
      expect((await store.getRun(third.runId)).tags['keel.promotion']).toMatch(/^promoted: /);
      expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(3);
    } finally {
      await store.close();
    }
  });
});
