import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnSchema, featureSpecs, generateChurn, recordsToFrame } from '../data/index.js';
import { FeaturePipeline, GradientBoostingClassifier, LogisticRegression, Model } from '../learn/index.js';
import { FsArtifactStore, SqliteStore } from '../track/index.js';
import { createApp } from './app.js';
import { loadFromRegistry, ModelHost, parseModelRef } from './model-host.js';
import { startServer } from './server.js';

const schema = churnSchema();
const inputs = featureSpecs(schema);
function trainModel(): Model {
  const data = generateChurn({ rows: 2000, seed: 5 });
  const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
  const y = Float64Array.from(data.categorical('churn').codes);
  const clf = new LogisticRegression().fit(pipeline.transform(data), y);
  return new Model({
    pipeline,
    classifier: clf,
    signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
  });
}

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

const model = trainModel();
const host = new ModelHost();
host.set('churn', {
  name: 'churn',
  version: 3,
  alias: 'production',
  predictor: model,
  loadedAt: new Date().toISOString(),
});
const app = createApp({ models: host, bodyLimit: 50_000, processMetrics: false });
const post = (payload: string | object, contentType = 'application/json') =>
  app.inject({
    method: 'POST',
    url: '/v1/models/churn/predict',
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('POST /v1/models/:name/predict', () => {
  it('scores one record, a batch and a wrapped batch', async () => {
    const one = await post(good);
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body).toMatchObject({ model: 'churn', version: 3 });
    expect(body.predictions).toHaveLength(1);
    expect(body.predictions[0].probability).toBeGreaterThan(0);
    expect(body.predictions[0].probability).toBeLessThan(1);
    expect(['Yes', 'No']).toContain(body.predictions[0].label);
    const loyal = {
      ...good,
      tenure: 70,
      contract: 'Two year',
      total_charges: 4000,
      online_security: 'Yes',
      tech_support: 'Yes',
    };
    const batch = await post([good, loyal]);
    expect(batch.statusCode).toBe(200);
    const [p1, p2] = batch.json().predictions;
    expect(p1.probability).toBeGreaterThan(p2.probability);
    expect((await post({ records: [good, loyal, good] })).json().predictions).toHaveLength(3);
    // nullable fields may be null; numeric strings are accepted
    expect((await post({ ...good, online_security: null, total_charges: '268.5' })).statusCode).toBe(200);
  });

  it('lists every field error of every record with a 400', async () => {
    const res = await post([
      { ...good, tenure: 'long', contract: 'Weekly' },
      { ...good, monthly_charges: undefined, senior_citizen: 2, tenure: 1.5 },
    ]);
    expect(res.statusCode).toBe(400);
    const err = res.json().error;
    expect(err.code).toBe('KEEL_E_INPUT');
    const got = err.fields.map(
      (f: { index: number; field: string; rule: string }) => `${f.index}:${f.field}:${f.rule}`,
    );
    expect(got).toEqual(['0:tenure:type', '0:contract:allowed', '1:tenure:type', '1:senior_citizen:max']);
    expect(err.fields[1].message).toContain('Month-to-month');
    const missing = await post({ tenure: 3 });
    expect(missing.json().error.fields.map((f: { rule: string }) => f.rule)).toContain('required');
    expect((await post([1, 'x'])).json().error.fields[0].rule).toBe('record');
    expect((await post([])).statusCode).toBe(400);
  });

  it('answers malformed JSON 400, wrong content type 415, a huge body 413, an unknown model 404: JSON, no stack', async () => {
    const bad = await post('{"tenure": 3,');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('KEEL_E_INVALID_JSON');
    const text = await post('tenure=3', 'text/plain');
    expect(text.statusCode).toBe(415);
    const huge = await post(JSON.stringify(Array.from({ length: 2000 }, () => good)));
    expect(huge.statusCode).toBe(413);
    const none = await app.inject({ method: 'POST', url: '/v1/models/nope/predict', payload: good });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.message).toContain('serving: churn');
    for (const r of [bad, text, huge, none]) expect(r.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('fuzz: arbitrary JSON bodies never produce a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ tenure: fc.jsonValue(), contract: fc.jsonValue() }),
          fc.array(fc.dictionary(fc.string(), fc.jsonValue())),
        ),
        async (v) => {
          const res = await post(JSON.stringify(v) ?? 'null');
          return res.statusCode < 500;
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the fast body reader behind the route', () => {
  // a boosted model (the served kind the reader is for) next to the logistic one
  const data = generateChurn({ rows: 1500, seed: 9 });
  const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
  const gbdt = new Model({
    pipeline,
    classifier: new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 4 }).fit(
      pipeline.transform(data),
      Float64Array.from(data.categorical('churn').codes),
    ),
    signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
  });
  const h = new ModelHost();
  h.set('gb', { name: 'gb', version: 2, alias: null, predictor: gbdt, loadedAt: new Date().toISOString() });
  const gbApp = createApp({ models: h, processMetrics: false });
  const send = (payload: string) =>
    gbApp.inject({
      method: 'POST',
      url: '/v1/models/gb/predict',
      headers: { 'content-type': 'application/json' },
      payload,
    });
  const records = Array.from({ length: 40 }, (_, i) => ({
    tenure: i + (i % 4) * 8,
    monthly_charges: 20 + i * 2.37,
    total_charges: i % 7 === 0 ? 0.1 : i * 101.3,
    contract: ['Month-to-month', 'One year', 'Two year'][i % 3],
    payment_method: 'Electronic check',
    internet_service: i % 2 ? 'Fiber optic' : 'DSL',
    online_security: i % 5 === 0 ? null : 'No',
    tech_support: i % 3 ? 'No' : 'Yes',
    streaming_tv: 'Yes',
    senior_citizen: i % 2,
  }));

  it('answers exactly as the generic reader does, with the library probabilities', async () => {
    // an unknown field sends a body down the generic path (which ignores it): same answer
    const withExtra = (r: object) => ({ ...r, not_an_input: 1 });
    for (const r of records) {
      const fast = await send(JSON.stringify(r));
      const slow = await send(JSON.stringify(withExtra(r)));
      expect(fast.statusCode).toBe(200);
      expect(fast.body).toBe(slow.body);
      expect(fast.headers['content-type']).toBe(slow.headers['content-type']);
      const direct = gbdt.predictFrame(recordsToFrame([r], inputs).frame!).probability[0];
      expect(fast.json().predictions[0].probability).toBe(direct);
    }
    const columns = (rs: object[]) => ({
      columns: Object.fromEntries(
        Object.keys(records[0]).map((k) => [k, rs.map((r) => (r as Record<string, unknown>)[k])]),
      ),
    });
    const fastCols = await send(JSON.stringify(columns(records)));
    const slowCols = await send(JSON.stringify({ ...columns(records), extra: true }));
    const asRecords = await send(JSON.stringify(records));
    expect(fastCols.statusCode).toBe(200);
    expect(fastCols.body).toBe(slowCols.body);
    expect(fastCols.body).toBe(asRecords.body);
    const direct = gbdt.predictFrame(recordsToFrame(records, inputs).frame!).probability;
    expect(fastCols.json().predictions.map((p: { probability: number }) => p.probability)).toEqual(
      Array.from(direct),
    );
  });

  it('leaves errors to the generic reader: the same 400s, field by field', async () => {
    const bad = { ...records[1], tenure: -3, contract: 'Weekly' };
    const one = await send(JSON.stringify(bad));
    expect(one.statusCode).toBe(400);
    expect(one.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['tenure', 'contract']);
    const cols = await send(JSON.stringify({ columns: { tenure: [1, 2], contract: ['Two year'] } }));
    expect(cols.statusCode).toBe(400);
    expect(cols.json().error.code).toBe('KEEL_E_INPUT');
    expect((await send('{"tenure": 3,')).json().error.code).toBe('KEEL_E_INVALID_JSON');
    expect((await send('')).json().error.code).toBe('KEEL_E_INVALID_JSON');
    // an unknown model with a broken body: the body's error first, as before
    const none = await gbApp.inject({
      method: 'POST',
      url: '/v1/models/nope/predict',
      headers: { 'content-type': 'application/json' },
      payload: '{"x":',
    });
    expect(none.statusCode).toBe(400);
    const tooMany = await createApp({ models: h, processMetrics: false, maxBatch: 3 }).inject({
      method: 'POST',
      url: '/v1/models/gb/predict',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ columns: { tenure: [1, 2, 3, 4] } }),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.message).toContain('at most 3 records, got 4');
  });
});

describe('health, readiness, models and metrics', () => {
  it('reports health and readiness, the loaded models and Prometheus metrics with labels', async () => {
    expect((await app.inject('/health')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/ready')).statusCode).toBe(200);
    const empty = createApp({ models: new ModelHost(), processMetrics: false });
    expect((await empty.inject('/ready')).statusCode).toBe(503);
    const models = (await app.inject('/v1/models')).json().models;
    expect(models[0]).toMatchObject({ name: 'churn', version: 3, alias: 'production' });
    await post(good);
    await post({ ...good, tenure: -5 });
    const metrics = await app.inject('/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/keel_predict_requests_total\{model="churn",version="3",status="200"\} \d+/);
    expect(metrics.body).toMatch(/keel_predict_requests_total\{model="churn",version="3",status="400"\} \d+/);
    expect(metrics.body).toMatch(/keel_validation_failures_total\{model="churn",field="tenure"\} \d+/);
    expect(metrics.body).toContain('keel_predict_duration_seconds_bucket');
    expect((await app.inject('/nope')).statusCode).toBe(404);
  });
});

describe('model references and the registry', () => {
  it('parses NAME, NAME@ALIAS and NAME@VERSION and rejects others', () => {
    expect(parseModelRef('churn')).toEqual({ name: 'churn', alias: 'production' });
    expect(parseModelRef('churn@staging')).toEqual({ name: 'churn', alias: 'staging' });
    expect(parseModelRef('churn@4')).toEqual({ name: 'churn', version: 4 });
    expect(() => parseModelRef('churn@@x')).toThrow(/must look like NAME@ALIAS/);
  });

  describe('loading from a registry and serving on a real port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-serve-'));
    const store = new SqliteStore(join(dir, 'keel.db'));
    const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
    let server: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      const ref = await artifacts.put('model/model.json', JSON.stringify(model.toJSON()));
      const v = await store.createModelVersion({ name: 'churn', runId: null, artifact: ref });
      await store.setAlias('churn', 'production', v.version);
      const h = new ModelHost();
      const entry = await loadFromRegistry('churn@production', {
        store,
        artifacts,
        fromJSON: (d) => Model.fromJSON(d),
      });
      h.set(entry.name, entry);
      server = await startServer({ host: '127.0.0.1', port: 0, models: h });
    });
    afterAll(async () => {
      await server.close();
      await store.close();
    });

    it('resolves the alias, loads the document and answers over HTTP', async () => {
      const res = await fetch(`${server.url}/v1/models/churn/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(good),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { version: number; predictions: { probability: number }[] };
      expect(body.version).toBe(1);
      const direct = model.predictFrame(recordsToFrame([good], inputs).frame!).probability[0];
      expect(body.predictions[0].probability).toBe(direct);
      await expect(
        loadFromRegistry('churn@canary', { store, artifacts, fromJSON: (d) => Model.fromJSON(d) }),
      ).rejects.toThrow(/has no alias "canary"/);
    });
  });
});
