import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { churnSchema, featureSpecs, generateChurn, recordsToFrame } from '../data/index.js';
import { FeaturePipeline, GradientBoostingClassifier, LogisticRegression, Model } from '../learn/index.js';
import { freshSchemas, pgReachable, pgUrl } from '../track/pg.testkit.js';
import { createApp } from './app.js';
import { ModelHost } from './model-host.js';
import {
  openPredictionSink,
  PredictionLog,
  type PredictionRecord,
  type PredictionSink,
  SqlitePredictionSink,
} from './prediction-log.js';
import { startServer } from './server.js';

const inputs = featureSpecs(churnSchema());
const data = generateChurn({ rows: 1000, seed: 9 });
const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
const model = new Model({
  pipeline,
  classifier: new LogisticRegression().fit(
    pipeline.transform(data),
    Float64Array.from(data.categorical('churn').codes),
  ),
  signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
});
const host = new ModelHost();
host.set('churn', {
  name: 'churn',
  version: 2,
  alias: null,
  predictor: model,
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
const predict = (
  app: ReturnType<typeof createApp>,
  headers: Record<string, string> = {},
  body: unknown = good,
) =>
  app.inject({
    method: 'POST',
    url: '/v1/models/churn/predict',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
const tmp = mkdtempSync(join(tmpdir(), 'keel-serve-ops-'));

describe('request ids', () => {
  it('echoes a sane X-Request-Id and makes one up otherwise, on answers and errors alike', async () => {
    const app = createApp({ models: host, processMetrics: false });
    const mine = await predict(app, { 'x-request-id': 'abc-123' });
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const made = await predict(app);
    const made2 = await predict(app, { 'x-request-id': 'not ok; drop table' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(made2.headers['x-request-id']).not.toBe(made.headers['x-request-id']);
    expect(made2.headers['x-request-id']).not.toContain(' ');
    const bad = await predict(app, { 'x-request-id': 'r-400' }, { tenure: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-request-id']).toBe('r-400');
  });
});

describe('API keys', () => {
  const app = createApp({ models: host, processMetrics: false, apiKeys: ['k1-secret', 'k2-secret'] });
  it('refuses /v1/* without a key or with a wrong one (401, JSON), accepts Bearer and X-API-Key', async () => {
    const none = await predict(app);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json().error.code).toBe('KEEL_E_UNAUTHORIZED');
    expect(none.json().error.message).toContain('API key');
    const wrong = await predict(app, { authorization: 'Bearer nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe('the API key is not valid');
    expect((await predict(app, { authorization: 'Bearer k2-secret' })).statusCode).toBe(200);
    expect((await predict(app, { 'x-api-key': 'k1-secret' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v1/models' })).statusCode).toBe(401);
  });
  it('leaves probes and the scraper open', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json'])
      expect((await app.inject({ url })).statusCode).toBe(200);
  });
});

describe('CORS', () => {
  const app = createApp({ models: host, processMetrics: false, corsOrigins: ['https://app.example'] });
  it('answers preflight requests from an allowed origin and tags answers; ignores other origins', async () => {
    const pre = await app.inject({
      method: 'OPTIONS',
      url: '/v1/models/churn/predict',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    expect(pre.headers['access-control-allow-headers']).toContain('content-type');
    const ok = await predict(app, { origin: 'https://app.example' });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(ok.headers.vary).toContain('Origin');
    const other = await predict(app, { origin: 'https://evil.example' });
    expect(other.statusCode).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
  it('with * allows any origin', async () => {
    const any = createApp({ models: host, processMetrics: false, corsOrigins: ['*'] });
    const r = await predict(any, { origin: 'https://x.example' });
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('rate limiting', () => {
  it('allows max requests per client per window, then 429 with Retry-After; clients are counted apart', async () => {
    const app = createApp({ models: host, processMetrics: false, rateLimit: { max: 3, windowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await predict(app, { 'x-api-key': 'a' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await predict(app, { 'x-api-key': 'a' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json().error.code).toBe('KEEL_E_RATE_LIMITED');
    expect((await predict(app, { 'x-api-key': 'b' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });
  it('opens a new window after windowMs', async () => {
    const app = createApp({ models: host, processMetrics: false, rateLimit: { max: 1, windowMs: 150 } });
    expect((await predict(app)).statusCode).toBe(200);
    expect((await predict(app)).statusCode).toBe(429);
    await new Promise((r) => setTimeout(r, 200));
    expect((await predict(app)).statusCode).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('documents the routes and each model input schema from its signature', async () => {
    const app = createApp({ models: host, processMetrics: false });
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/ready', '/metrics', '/v1/models', '/v1/models/churn/predict']),
    );
    const rec = doc.components.schemas.churnRecord;
    expect(rec.properties.contract.enum ?? rec.properties.contract.anyOf?.[0].enum).toContain(
      'Month-to-month',
    );
    expect(Object.keys(rec.properties)).toEqual(inputs.map((i) => i.name));
    expect(rec.required).toEqual(inputs.filter((i) => !i.nullable).map((i) => i.name));
  });
});

describe('prediction log', () => {
  it('writes every scored record with its request id, version and latency to SQLite, off the response path', async () => {
    const path = join(tmp, 'predictions.db');
    const log = new PredictionLog(new SqlitePredictionSink(path), { flushIntervalMs: 50 });
    const app = createApp({ models: host, processMetrics: false, predictionLog: log });
    await predict(app, { 'x-request-id': 'one' });
    await predict(app, { 'x-request-id': 'batch' }, [good, { ...good, tenure: 40 }]);
    await predict(app, {}, { tenure: 'bad' }); // rejected: nothing logged
    await log.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT * FROM predictions ORDER BY id').all() as Record<string, unknown>[];
    db.close();
    expect(rows.map((r) => r.request_id)).toEqual(['one', 'batch', 'batch']);
    expect(rows.every((r) => r.model === 'churn' && r.version === 2)).toBe(true);
    expect(JSON.parse(rows[2].input as string).tenure).toBe(40);
    expect(rows.every((r) => (r.probability as number) > 0 && (r.probability as number) < 1)).toBe(true);
    expect(rows.every((r) => r.label === 'Yes' || r.label === 'No')).toBe(true);
    expect(rows.every((r) => (r.latency_ms as number) >= 0)).toBe(true);
    expect(log.written).toBe(3);
    expect(log.dropped).toBe(0);
  });

  const row = (i: number): PredictionRecord => ({
    ts: 1_700_000_000_000 + i,
    requestId: `r${i}`,
    model: 'm',
    version: 1,
    input: { i },
    probability: 0.5,
    label: 'Yes',
    latencyMs: 0.1,
  });

  it('keeps memory bounded when the sink is slow: drops beyond maxQueue, counts them, warns once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const got: PredictionRecord[] = [];
    const slow: PredictionSink = {
      describe: 'slow',
      write: async (rows) => {
        await gate;
        got.push(...rows);
      },
      close: async () => {},
    };
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as never;
    const log = new PredictionLog(slow, { maxQueue: 10, batchSize: 5, flushIntervalMs: 10_000, logger });
    const accepted = Array.from({ length: 30 }, (_, i) => log.append(row(i))).filter(Boolean).length;
    // 5 rows went to the (stuck) sink at the first full batch, 10 wait in memory, the rest dropped
    expect(log.pending).toBeLessThanOrEqual(10);
    expect(accepted).toBe(15);
    expect(log.dropped).toBe(15);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('queue is full');
    release();
    await log.close();
    expect(got.map((r) => r.requestId)).toEqual(Array.from({ length: 15 }, (_, i) => `r${i}`));
  });

  it('survives a failing sink: counts the failure and the rows, keeps serving, writes later batches', async () => {
    let fail = true;
    const got: PredictionRecord[] = [];
    const flaky: PredictionSink = {
      describe: 'flaky',
      write: async (rows) => {
        if (fail) throw new Error('disk full');
        got.push(...rows);
      },
      close: async () => {},
    };
    const log = new PredictionLog(flaky, { flushIntervalMs: 10_000 });
    const app = createApp({ models: host, processMetrics: false, predictionLog: log });
    expect((await predict(app)).statusCode).toBe(200);
    await log.flush();
    expect(log.failures).toBe(1);
    expect(log.dropped).toBe(1);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/keel_prediction_log_dropped_total 1/);
    fail = false;
    expect((await predict(app)).statusCode).toBe(200);
    await log.close();
    expect(got).toHaveLength(1);
    expect(log.written).toBe(1);
  });

  it('names the file when the SQLite log cannot be opened', () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expect(() => new SqlitePredictionSink(join(file, 'p.db'))).toThrow(
      /cannot open the prediction log .*a-file/,
    );
  });

  describe('in PostgreSQL', async () => {
    const reachable = await pgReachable();
    const fresh = freshSchemas('keel_predlog');
    it.skipIf(!reachable)(
      'creates the table in its schema and appends batches through a real server',
      async () => {
        const schema = fresh();
        const sink = openPredictionSink(`${pgUrl}?schema=${schema}`);
        expect(sink.describe).toContain(`schema=${schema}`);
        const log = new PredictionLog(sink, { batchSize: 100, flushIntervalMs: 10_000 });
        const server = await startServer({ host: '127.0.0.1', port: 0, models: host, predictionLog: log });
        try {
          const r = await fetch(`${server.url}/v1/models/churn/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': 'pg-1' },
            body: JSON.stringify(Array.from({ length: 250 }, (_, i) => ({ ...good, tenure: i % 60 }))),
          });
          expect(r.status).toBe(200);
        } finally {
          await server.close(); // drains, then flushes and closes the log
        }
        const c = new pg.Client({ connectionString: pgUrl });
        await c.connect();
        const q = await c.query(
          `SELECT count(*)::int AS n, min((input->>'tenure')::int) AS lo, max((input->>'tenure')::int) AS hi, min(request_id) AS id FROM ${schema}.predictions`,
        );
        await c.end();
        expect(q.rows[0]).toEqual({ n: 250, lo: 0, hi: 59, id: 'pg-1' });
      },
    );
  });
});

describe('explanations', () => {
  it('adds per-input contributions with explain=true; a model that cannot explain gets a 400', async () => {
    const app = createApp({ models: host, processMetrics: false });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/models/churn/predict?explain=true',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([good, { ...good, tenure: 60, contract: 'Two year' }]),
    });
    expect(r.statusCode).toBe(200);
    const preds = r.json().predictions as {
      probability: number;
      explanation: { base_value: number; output: string; contributions: Record<string, number> };
    }[];
    for (const p of preds) {
      expect(Object.keys(p.explanation.contributions)).toEqual(inputs.map((i) => i.name));
      const margin = Object.values(p.explanation.contributions).reduce(
        (a, b) => a + b,
        p.explanation.base_value,
      );
      expect(p.explanation.output).toBe('margin');
      expect(1 / (1 + Math.exp(-margin))).toBeCloseTo(p.probability, 9);
    }
    const opaque = new ModelHost();
    opaque.set('churn', {
      name: 'churn',
      version: 1,
      alias: null,
      predictor: { signature: model.signature, predictFrame: (f) => model.predictFrame(f) },
      loadedAt: '2026-01-01T00:00:00Z',
    });
    const no = await createApp({ models: opaque, processMetrics: false }).inject({
      method: 'POST',
      url: '/v1/models/churn/predict?explain=1',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(good),
    });
    expect(no.statusCode).toBe(400);
    expect(no.json().error.message).toContain('cannot explain');
  });
});

describe('CSV batches', () => {
  const app = createApp({ models: host, processMetrics: false });
  const header = Object.keys(good).join(',');
  const line = (r: Record<string, unknown>) => Object.values(r).join(',');
  const csvPost = (body: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/models/churn/predict',
      headers: { 'content-type': 'text/csv' },
      payload: body,
    });

  it('scores a CSV batch exactly like the same records in JSON', async () => {
    const other = { ...good, tenure: 60, contract: 'Two year' };
    const r = await csvPost(`${header}\n${line(good)}\n${line(other)}\n`);
    expect(r.statusCode).toBe(200);
    const j = await predict(app, {}, [good, other]);
    expect(r.json().predictions).toEqual(j.json().predictions);
  });

  it('answers a malformed CSV or a blank required cell with a 400 that says where', async () => {
    const ragged = await csvPost(`${header}\n${line(good)},extra\n`);
    expect(ragged.statusCode).toBe(400);
    expect(ragged.json().error.message).toMatch(/the request body.*line 2/);
    const blank = await csvPost(`${header}\n${line({ ...good, tenure: '' })}\n`);
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.fields[0]).toMatchObject({ index: 0, field: 'tenure', rule: 'nullable' });
  });
});

describe('columnar batches', () => {
  const app = createApp({ models: host, processMetrics: false });
  const columnsOf = (records: Record<string, unknown>[]) =>
    Object.fromEntries(Object.keys(good).map((k) => [k, records.map((r) => r[k])]));

  it('scores {"columns": ...} exactly like the same records', async () => {
    const rows = data.toRecords().slice(0, 40) as Record<string, unknown>[];
    const r = await predict(app, {}, { columns: columnsOf(rows) });
    expect(r.statusCode).toBe(200);
    expect(r.json().predictions).toEqual((await predict(app, {}, rows)).json().predictions);
  });

  it('answers bad columns with the same field errors as records, and ragged columns with a 400', async () => {
    const bad = [good, { ...good, tenure: 'soon', contract: 'Weekly' }];
    const r = await predict(app, {}, { columns: columnsOf(bad) });
    expect(r.statusCode).toBe(400);
    const fields = r
      .json()
      .error.fields.map((f: { index: number; field: string; rule: string }) => [f.index, f.field, f.rule]);
    expect(fields).toEqual([
      [1, 'tenure', 'type'],
      [1, 'contract', 'allowed'],
    ]);
    const ragged = await predict(app, {}, { columns: { ...columnsOf([good, good]), tenure: [1] } });
    expect(ragged.statusCode).toBe(400);
    expect(ragged.json().error.fields[0]).toMatchObject({ rule: 'record' });
    expect(ragged.json().error.fields[0].message).toMatch(/has 2 values, column "tenure" 1/);
    const empty = await predict(app, {}, { columns: { tenure: [] } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toBe('send at least one record');
    const tooMany = await createApp({ models: host, processMetrics: false, maxBatch: 1 }).inject({
      method: 'POST',
      url: '/v1/models/churn/predict',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ columns: columnsOf([good, good]) }),
    });
    expect(tooMany.statusCode).toBe(400);
  });

  it('scores a large gradient-boosting batch on worker threads with the same numbers as in-process', async () => {
    const Xall = pipeline.transform(data);
    const gbdt = new Model({
      pipeline,
      classifier: new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 4 }).fit(
        Xall,
        Float64Array.from(data.categorical('churn').codes),
      ),
      signature: model.signature,
    });
    const gHost = new ModelHost();
    gHost.set('churn', {
      name: 'churn',
      version: 1,
      alias: null,
      predictor: gbdt,
      loadedAt: '2026-01-01T00:00:00Z',
    });
    const gApp = createApp({ models: gHost, processMetrics: false, bodyLimit: 5_000_000 });
    const rows = data.toRecords() as Record<string, unknown>[];
    const expected = gbdt.predictFrame(data);
    for (const body of [rows, { columns: columnsOf(rows) }]) {
      const r = await predict(gApp, {}, body);
      expect(r.statusCode).toBe(200);
      const got = r.json().predictions as { probability: number; label: string }[];
      expect(got.map((p) => p.probability)).toEqual(Array.from(expected.probability));
      expect(got.map((p) => p.label)).toEqual(expected.label);
    }
    const asyncResult = await gbdt.predictFrameAsync(data);
    expect(Array.from(asyncResult.probability)).toEqual(Array.from(expected.probability));
    // the shared feature buffers are reused: jobs of several sizes, some at once, never mix
    const rowsOf = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
    const parts = [
      data,
      data.take(rowsOf(0, 300)),
      data.take(rowsOf(100, 400)),
      data,
      data.take(rowsOf(0, 300)),
    ];
    const results = await Promise.all([...parts, ...parts].map((f) => gbdt.predictFrameAsync(f)));
    results.forEach((r, i) => {
      const f = parts[i % parts.length];
      expect(Array.from(r.probability)).toEqual(Array.from(gbdt.predictFrame(f).probability));
    });
  });
});

describe('answers and metrics on the hot path', () => {
  it('writes exactly what JSON.stringify writes for the predictions', async () => {
    const app = createApp({ models: host, processMetrics: false });
    const rows = data.toRecords().slice(0, 25) as Record<string, unknown>[];
    for (const body of [good, rows]) {
      const r = await predict(app, {}, body);
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const recs = Array.isArray(body) ? body : [body];
      const { frame } = recordsToFrame(recs, inputs);
      const { probability, label } = model.predictFrame(frame!);
      const predictions = Array.from(probability, (p, i) => ({ probability: p, label: label[i] }));
      expect(r.body).toBe(JSON.stringify({ model: 'churn', version: 2, predictions }));
    }
  });

  it('counts requests, rows per label and latencies exactly, in prom-client exposition format', async () => {
    const app = createApp({ models: host, processMetrics: false });
    const rows = data.toRecords().slice(0, 30) as Record<string, unknown>[];
    const { label } = model.predictFrame(recordsToFrame(rows, inputs).frame!);
    const yes = label.filter((l) => l === 'Yes').length;
    await predict(app, {}, rows);
    await predict(app, {}, good);
    await predict(app, {}, { ...good, tenure: -1 });
    const goodLabel = model.predictFrame(recordsToFrame([good], inputs).frame!).label[0];
    const yesAll = yes + (goodLabel === 'Yes' ? 1 : 0);
    const text = (await app.inject('/metrics')).body;
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${line} `))
          ?.split(' ')[1],
      );
    expect(value('keel_predict_requests_total{model="churn",version="2",status="200"}')).toBe(2);
    expect(value('keel_predict_requests_total{model="churn",version="2",status="400"}')).toBe(1);
    expect(value('keel_predictions_total{model="churn",version="2",label="Yes"}')).toBe(yesAll);
    expect(value('keel_predictions_total{model="churn",version="2",label="No"}')).toBe(31 - yesAll);
    expect(value('keel_predict_duration_seconds_count{model="churn",version="2"}')).toBe(2);
    expect(value('keel_predict_duration_seconds_bucket{le="+Inf",model="churn",version="2"}')).toBe(2);
    expect(value('keel_predict_duration_seconds_bucket{le="1",model="churn",version="2"}')).toBe(2);
    expect(value('keel_predict_duration_seconds_sum{model="churn",version="2"}')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE keel_predict_duration_seconds histogram');
    // a second scrape keeps the totals (nothing is counted twice or lost)
    await predict(app, {}, good);
    const again = (await app.inject('/metrics')).body;
    expect(again).toContain('keel_predict_requests_total{model="churn",version="2",status="200"} 3');
    expect(again).toContain('keel_predict_duration_seconds_count{model="churn",version="2"} 3');
  });
});
