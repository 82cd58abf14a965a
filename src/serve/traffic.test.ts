import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { churnSchema, featureSpecs, generateChurn } from '../data/index.js';
import { FeaturePipeline, GradientBoostingClassifier, LogisticRegression, Model } from '../learn/index.js';
import type { Predictor } from '../learn/types.js';
import { FsArtifactStore, SqliteStore } from '../track/index.js';
import { createApp } from './app.js';
import { type HostedModel, ModelHost } from './model-host.js';
import { PredictionLog, type PredictionRecord } from './prediction-log.js';
import { CanaryGuard, type GuardVerdict, routePoint } from './traffic.js';

const inputs = featureSpecs(churnSchema());
const data = generateChurn({ rows: 1500, seed: 21 });
const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
const X = pipeline.transform(data);
const y = Float64Array.from(data.categorical('churn').codes);
const signature = {
  inputs,
  target: { name: 'churn', classes: ['No', 'Yes'] as [string, string], positive: 'Yes' },
};
const lr = new Model({ pipeline, classifier: new LogisticRegression().fit(X, y), signature });
const gb = new Model({
  pipeline,
  classifier: new GradientBoostingClassifier({ nEstimators: 15 }).fit(X, y),
  signature,
});
const broken: Predictor = {
  signature,
  predictFrame: () => {
    throw new Error('model exploded');
  },
};
const hosted = (version: number, predictor: Predictor, alias: string | null = null): HostedModel => ({
  name: 'churn',
  version,
  alias,
  predictor,
  loadedAt: '2026-01-01T00:00:00Z',
});
const good = {
  tenure: 3,
  monthly_charges: 89.5,
  total_charges: 268.5,
  contract: 'Month-to-month',
  payment_method: 'Electronic check',
  internet_service: 'Fiber optic',
  online_security: 'No',
  tech_support: 'No',
  streaming_tv: 'Yes',
  senior_citizen: 0,
};
const post = (app: ReturnType<typeof createApp>, key?: string, body: unknown = good) =>
  app.inject({
    method: 'POST',
    url: '/v1/models/churn/predict',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-keel-route-key': key } : {}) },
    payload: JSON.stringify(body),
  });

describe('routing points', () => {
  it('are stable per key and spread evenly over [0, 1)', () => {
    expect(routePoint('customer-42')).toBe(routePoint('customer-42'));
    const pts = Array.from({ length: 10_000 }, (_, i) => routePoint(`c${i}`));
    expect(Math.min(...pts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pts)).toBeLessThan(1);
    const deciles = new Array(10).fill(0);
    for (const p of pts) deciles[Math.floor(p * 10)]++;
    for (const d of deciles) expect(Math.abs(d - 1000)).toBeLessThan(150);
  });
});

describe('canary guard', () => {
  it('trips once when the error rate over the window passes the limit, judged only from minRequests on', () => {
    const g = new CanaryGuard({ maxErrorRate: 0.1, window: 20, minRequests: 10 });
    for (let i = 0; i < 5; i++) expect(g.record(false, 1)).toBeNull(); // 100% errors, but too few requests
    for (let i = 0; i < 4; i++) expect(g.record(true, 1)).toBeNull();
    const v = g.record(true, 1); // 10 requests, 5 failed
    expect(v?.reason).toMatch(/error rate 50\.0% over the last 10 requests exceeds 10\.0%/);
    expect(g.tripped).toEqual(v);
    expect(g.record(false, 1)).toBeNull(); // tripped: nothing more
  });

  it('forgets outcomes that left the window', () => {
    const g = new CanaryGuard({ maxErrorRate: 0.2, window: 10, minRequests: 10 });
    expect(g.record(false, 1)).toBeNull(); // one failure among 9 ok: 10% in the first window
    for (let i = 0; i < 9; i++) expect(g.record(true, 1)).toBeNull();
    for (let i = 0; i < 100; i++) expect(g.record(i % 10 !== 0, 1)).toBeNull(); // 10% all along
    expect(g.tripped).toBeNull();
  });

  it('trips on p99 latency when a latency limit is set', () => {
    const g = new CanaryGuard({ maxErrorRate: 1, maxP99Ms: 50, window: 100, minRequests: 50 });
    let v: GuardVerdict | null = null;
    for (let i = 0; i < 200 && !v; i++) v = g.record(true, i % 10 === 0 ? 80 : 2);
    expect(v?.reason).toMatch(/p99 latency 80\.00 ms .* exceeds 50 ms/);
    expect(v?.p99Ms).toBe(80);
  });
});

describe('canary traffic', () => {
  it('sends the weight of keys, sticky, to the canary version and the rest to the primary', async () => {
    const host = new ModelHost();
    host.set('churn', hosted(1, lr));
    host.setCanary('churn', hosted(2, gb), 0.3);
    const app = createApp({ models: host, processMetrics: false });
    const versions = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const r = await post(app, `customer-${i}`);
      expect(r.statusCode).toBe(200);
      versions.set(`customer-${i}`, r.json().version);
    }
    const share = [...versions.values()].filter((v) => v === 2).length / versions.size;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.38);
    for (const k of ['customer-1', 'customer-7', 'customer-99'])
      expect((await post(app, k)).json().version).toBe(versions.get(k));
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/keel_predict_requests_total\{model="churn",version="2",status="200"\} \d+/);
    expect(metrics).toMatch(/keel_predict_requests_total\{model="churn",version="1",status="200"\} \d+/);
  });

  it('answers from the primary when the canary fails, then rolls the canary back and records it in the registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-canary-'));
    const store = new SqliteStore(join(dir, 'keel.db'));
    const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
    const ref = await artifacts.put('model.json', JSON.stringify(lr.toJSON()));
    await store.createModelVersion({ name: 'churn', runId: null, artifact: ref });
    await store.createModelVersion({ name: 'churn', runId: null, artifact: ref });
    await store.setAlias('churn', 'production', 1);
    await store.setAlias('churn', 'canary', 2);
    const host = new ModelHost();
    host.set('churn', hosted(1, lr, 'production'));
    host.setCanary('churn', hosted(2, broken, 'canary'), 0.5, {
      maxErrorRate: 0.05,
      window: 20,
      minRequests: 10,
    });
    const rollbacks: GuardVerdict[] = [];
    const app = createApp({
      models: host,
      processMetrics: false,
      onCanaryRollback: async (name, canary, verdict) => {
        rollbacks.push(verdict);
        await store.deleteAlias(name, canary.alias!, {
          actor: 'keel serve (canary guard)',
          reason: verdict.reason,
        });
      },
    });
    const statuses: number[] = [];
    const versions = new Set<number>();
    for (let i = 0; i < 80; i++) {
      const r = await post(app, `k${i}`);
      statuses.push(r.statusCode);
      versions.add(r.json().version);
    }
    expect(new Set(statuses)).toEqual(new Set([200])); // no client saw the canary fail
    expect(versions).toEqual(new Set([1]));
    expect(rollbacks).toHaveLength(1);
    expect(host.canary('churn')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.getModelVersionByAlias('churn', 'canary')).toBeNull();
    const audit = (await store.auditLog('churn')).filter((a) => a.action === 'delete_alias');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'keel serve (canary guard)', alias: 'canary', fromVersion: 2 });
    expect(audit[0].reason).toMatch(/error rate/);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/keel_canary_rollbacks_total\{model="churn",version="2"\} 1/);
    expect(metrics).toMatch(/keel_canary_errors_total\{model="churn",version="2"\} 10/);
    await store.close();
  });

  it('rejects weights outside [0, 1]', () => {
    expect(() => new ModelHost().setCanary('churn', hosted(2, gb), 1.5)).toThrow(/canary weight/);
  });
});

describe('shadow traffic', () => {
  it('scores every request with the shadow after answering, logs it as shadow, never returns it', async () => {
    const host = new ModelHost();
    host.set('churn', hosted(1, lr));
    host.setShadow('churn', hosted(3, gb));
    const rows: PredictionRecord[] = [];
    const log = new PredictionLog(
      { describe: 'memory', write: async (r) => void rows.push(...r), close: async () => {} },
      { flushIntervalMs: 10_000 },
    );
    const app = createApp({ models: host, processMetrics: false, predictionLog: log });
    const r = await post(app, undefined, [good, { ...good, tenure: 60, contract: 'Two year' }]);
    expect(r.json().version).toBe(1);
    expect(r.json().predictions).toHaveLength(2);
    await new Promise((res) => setImmediate(res));
    await log.close();
    expect(rows.map((x) => [x.version, x.role])).toEqual([
      [1, 'primary'],
      [1, 'primary'],
      [3, 'shadow'],
      [3, 'shadow'],
    ]);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    const agreed = [
      ...metrics.matchAll(
        /keel_shadow_predictions_total\{model="churn",version="3",agree="(yes|no)"\} (\d+)/g,
      ),
    ];
    expect(agreed.reduce((s, m) => s + Number(m[2]), 0)).toBe(2);
  });

  it('counts a failing shadow without touching the answer', async () => {
    const host = new ModelHost();
    host.set('churn', hosted(1, lr));
    host.setShadow('churn', hosted(4, broken));
    const app = createApp({ models: host, processMetrics: false });
    expect((await post(app)).statusCode).toBe(200);
    await new Promise((res) => setImmediate(res));
    expect((await app.inject({ url: '/metrics' })).body).toMatch(
      /keel_shadow_errors_total\{model="churn",version="4"\} 1/,
    );
  });
});
