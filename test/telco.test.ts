import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import telco from '../examples/telco/pipeline.js';
import { runPipeline } from '../src/pipeline/index.js';
import { openArtifactStore, openStore } from '../src/track/index.js';
import { sharedFile } from './cli.js';

const found = sharedFile('data', 'telco_churn.csv');
// In CI the shared folder sits beside the clone: a missing file there is a failure, not a skip.
if (!found && process.env.CI)
  throw new Error('../shared/data/telco_churn.csv not found (set KEEL_SHARED_DIR)');
const data = found ?? '';

describe.skipIf(!found)('examples/telco on the real Telco churn data', () => {
  it('runs end to end and reaches ROC-AUC >= 0.80 on its test split', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-telco-'));
    const store = await openStore(join(dir, 'keel.db'));
    try {
      const r = await runPipeline(telco, {
        store,
        artifacts: openArtifactStore(join(dir, 'artifacts')),
        params: { data },
      });
      expect(r.error?.message).toBeUndefined();
      expect(r.status).toBe('FINISHED');
      const run = await store.getRun(r.runId);
      expect(run.inputs[0].rows).toBe(7043);
      expect(run.inputs[0].sha256).toBe('16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91');
      expect(run.metrics['test.roc_auc']).toBeGreaterThanOrEqual(0.8);
      expect((await store.getModelVersionByAlias('telco-churn', 'production'))?.version).toBe(1);
    } finally {
      await store.close();
    }
  });
});
