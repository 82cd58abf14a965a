import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { churnSchema, featureSpecs, generateChurn } from '../data/index.js';
import { FeaturePipeline, GradientBoostingClassifier, LogisticRegression, Model } from '../learn/index.js';
import { FsArtifactStore, SqliteStore } from '../track/index.js';
import { createApp } from './app.js';
import { watchRegistry } from './hot-swap.js';
import { loadFromRegistry, ModelHost } from './model-host.js';

const inputs = featureSpecs(churnSchema());
const data = generateChurn({ rows: 1500, seed: 2 });
const y = Float64Array.from(data.categorical('churn').codes);
const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
const signature = {
  inputs,
  target: { name: 'churn', classes: ['No', 'Yes'] as [string, string], positive: 'Yes' },
};
const lr = new Model({
  pipeline,
  classifier: new LogisticRegression().fit(pipeline.transform(data), y),
  signature,
});
const gbdt = new Model({
  pipeline,
  classifier: new GradientBoostingClassifier({ nEstimators: 20 }).fit(pipeline.transform(data), y),
  signature,
});
const record = {
  tenure: 3,
  monthly_charges: 80,
  total_charges: 240,
  contract: 'Month-to-month',
  payment_method: 'Mailed check',
  internet_service: 'DSL',
  online_security: 'No',
  tech_support: 'Yes',
  streaming_tv: 'No',
  senior_citizen: 1,
};

const dir = mkdtempSync(join(tmpdir(), 'keel-swap-'));
const store = new SqliteStore(join(dir, 'keel.db'));
const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
afterAll(() => store.close());

async function register(m: Model | string): Promise<number> {
  const ref = await artifacts.put('model/model.json', typeof m === 'string' ? m : JSON.stringify(m.toJSON()));
  return (await store.createModelVersion({ name: 'churn', runId: null, artifact: ref })).version;
}

describe('hot swap from the registry', () => {
  it('follows the alias under load with zero failed requests; a broken version is skipped', async () => {
    const v1 = await register(lr);
    const v2 = await register(gbdt);
    await store.setAlias('churn', 'production', v1);
    const deps = { store, artifacts, fromJSON: (d: unknown) => Model.fromJSON(d) };
    const host = new ModelHost();
    host.set('churn', await loadFromRegistry('churn@production', deps));
    const swaps: number[] = [];
    const watcher = watchRegistry(host, ['churn@production'], {
      ...deps,
      intervalMs: 60_000,
      onSwap: (_, to) => swaps.push(to.version),
    });
    const app = createApp({ models: host, processMetrics: false });

    let stop = false;
    const statuses: number[] = [];
    const versions = new Set<number>();
    const load = (async () => {
      while (!stop) {
        const batch = await Promise.all(
          Array.from({ length: 16 }, () =>
            app.inject({ method: 'POST', url: '/v1/models/churn/predict', payload: record }),
          ),
        );
        for (const r of batch) {
          statuses.push(r.statusCode);
          if (r.statusCode === 200) versions.add(r.json().version);
        }
      }
    })();
    for (let i = 0; i < 6; i++) {
      await store.setAlias('churn', 'production', i % 2 === 0 ? v2 : v1);
      expect(await watcher.check()).toEqual(['churn']);
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(await watcher.check()).toEqual([]); // nothing moved since
    const broken = await register('{"format": "keel.model", "formatVersion": 1}');
    await store.setAlias('churn', 'production', broken);
    expect(await watcher.check()).toEqual([]);
    expect(host.get('churn')?.version).toBe(v1);
    stop = true;
    await load;
    watcher.stop();
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect([...versions].sort()).toEqual([v1, v2]);
    expect(swaps).toEqual([v2, v1, v2, v1, v2, v1]);
  });
});

describe('hot swap on PostgreSQL', async () => {
  const { freshSchemas, pgReachable, pgUrl } = await import('../track/pg.testkit.js');
  const { PostgresStore } = await import('../track/index.js');
  const reachable = await pgReachable();
  const fresh = freshSchemas('keel_swap');
  it.skipIf(!reachable)(
    'picks up a promotion at once through LISTEN/NOTIFY, without waiting for a poll',
    async () => {
      const schema = fresh();
      const pgStore = new PostgresStore(pgUrl, { schema });
      const other = new PostgresStore(pgUrl, { schema }); // another process promoting
      const pgArtifacts = new FsArtifactStore(join(dir, 'pg-artifacts'));
      try {
        const put = async (m: Model) =>
          (
            await pgStore.createModelVersion({
              name: 'churn',
              runId: null,
              artifact: await pgArtifacts.put('model/model.json', JSON.stringify(m.toJSON())),
            })
          ).version;
        const v1 = await put(lr);
        const v2 = await put(gbdt);
        await pgStore.setAlias('churn', 'production', v1);
        const deps = { store: pgStore, artifacts: pgArtifacts, fromJSON: (d: unknown) => Model.fromJSON(d) };
        const host = new ModelHost();
        host.set('churn', await loadFromRegistry('churn@production', deps));
        const swaps: number[] = [];
        const watcher = watchRegistry(host, ['churn@production'], {
          ...deps,
          intervalMs: 3_600_000, // polling would take an hour: only the notification can do it
          onSwap: (_from, to) => swaps.push(to.version),
        });
        try {
          await watcher.ready();
          const t0 = Date.now();
          await other.setAlias('churn', 'production', v2, { reason: 'notify test' });
          while (host.get('churn')?.version !== v2 && Date.now() - t0 < 5000)
            await new Promise((r) => setTimeout(r, 20));
          expect(host.get('churn')?.version).toBe(v2);
          expect(Date.now() - t0).toBeLessThan(5000);
          expect(swaps).toEqual([v2]);
          // a change in another schema is not ours
          const elsewhere = new PostgresStore(pgUrl, { schema: fresh() });
          try {
            await elsewhere.createModelVersion({
              name: 'churn',
              runId: null,
              artifact: await pgArtifacts.put('model/model.json', JSON.stringify(lr.toJSON())),
            });
            await elsewhere.setAlias('churn', 'production', 1);
            await new Promise((r) => setTimeout(r, 300));
            expect(swaps).toEqual([v2]);
          } finally {
            await elsewhere.close();
          }
        } finally {
          watcher.stop();
        }
      } finally {
        await other.close();
        await pgStore.close();
      }
    },
  );
});
