import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { churnSchema, featureSpecs, generateChurn } from '../data/index.js';
import { FeaturePipeline, GradientBoostingClassifier, Model } from '../learn/index.js';
import { createApp } from './app.js';
import { fastBodyFor } from './fast-body.js';
import { ModelHost } from './model-host.js';

const inputs = featureSpecs(churnSchema());
const data = generateChurn({ rows: 1200, seed: 13 });
const pipeline = new FeaturePipeline({ columns: inputs }).fit(data);
const model = new Model({
  pipeline,
  classifier: new GradientBoostingClassifier({ nEstimators: 20, maxDepth: 4 }).fit(
    pipeline.transform(data),
    Float64Array.from(data.categorical('churn').codes),
  ),
  signature: { inputs, target: { name: 'churn', classes: ['No', 'Yes'], positive: 'Yes' } },
});
const good = {
  tenure: 3,
  monthly_charges: 89.5,
  total_charges: 268.5,
  contract: 'Month-to-month',
  payment_method: 'Electronic check',
  internet_service: 'Fiber optic',
  online_security: null,
  tech_support: 'No',
  streaming_tv: 'Yes',
  senior_citizen: 0,
};

/** A columnar batch of n records like `good`, tenure and charges varying. */
function columnar(n: number): string {
  const recs = Array.from({ length: n }, (_, i) => ({
    ...good,
    tenure: i % 73,
    monthly_charges: 20 + ((i * 7.25) % 90),
    contract: i % 3 === 0 ? 'Two year' : good.contract,
  }));
  const names = Object.keys(good) as (keyof typeof good)[];
  return JSON.stringify({ columns: Object.fromEntries(names.map((k) => [k, recs.map((r) => r[k])])) });
}

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

function send(port: number, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // every header in order; the date and a generated request id (a per-app prefix) left out
        const raw = res.rawHeaders;
        const out: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const k = raw[i].toLowerCase();
          const v =
            k === 'date'
              ? '(date)'
              : k === 'x-request-id'
                ? raw[i + 1].replace(/^[0-9a-f]{8}-[0-9a-z]+$/, '(generated)')
                : raw[i + 1];
          out.push(`${k}: ${v}`);
        }
        resolve({ status: res.statusCode!, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the hot route', () => {
  const apps = [true, false].map((hotRoute) => {
    const host = new ModelHost();
    host.set('churn', { name: 'churn', version: 4, alias: null, predictor: model, loadedAt: '' });
    return createApp({ models: host, processMetrics: false, bodyLimit: 4000, hotRoute });
  });
  const ports: number[] = [];
  beforeAll(async () => {
    for (const app of apps) {
      await app.listen({ host: '127.0.0.1', port: 0 });
      ports.push((app.server.address() as AddressInfo).port);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('answers byte for byte as the Fastify route, on and off its path', async () => {
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, Record<string, string>][] = [
      ['/v1/models/churn/predict', JSON.stringify(good), json],
      ['/v1/models/churn/predict', JSON.stringify({ ...good, tenure: 50, contract: 'Two year' }), json],
      ['/v1/models/churn/predict', JSON.stringify(good), { ...json, 'x-request-id': 'abc-123' }],
      // batches, an unknown field, field errors, bad JSON, an unknown model, a query, other types
      ['/v1/models/churn/predict', JSON.stringify([good, good]), json],
      ['/v1/models/churn/predict', JSON.stringify({ columns: { tenure: [1, 2] } }), json],
      ['/v1/models/churn/predict', JSON.stringify({ ...good, extra: 1 }), json],
      ['/v1/models/churn/predict', JSON.stringify({ ...good, tenure: -1, contract: 'x' }), json],
      ['/v1/models/churn/predict', '{"tenure": 3,', json],
      ['/v1/models/nope/predict', JSON.stringify(good), json],
      ['/v1/models/churn/predict?explain=true', JSON.stringify(good), json],
      [
        '/v1/models/churn/predict',
        JSON.stringify(good),
        { 'content-type': 'application/json; charset=utf-8' },
      ],
      ['/v1/models/churn/predict', 'tenure=3', { 'content-type': 'text/plain' }],
      ['/v1/models/churn/predict', JSON.stringify(Array.from({ length: 40 }, () => good)), json],
      // columnar batches the fast reader takes (the hot route answers them), and one it leaves
      ['/v1/models/churn/predict', columnar(2), json],
      ['/v1/models/churn/predict', columnar(20), json],
      ['/v1/models/churn/predict', columnar(3).replace('"tenure":[0,', '"tenure":[-1,'), json],
    ];
    for (const [path, body, headers] of cases) {
      const [hot, plain] = await Promise.all(ports.map((p) => send(p, path, body, headers)));
      expect(hot, `${path} ${body.slice(0, 40)}`).toEqual(plain);
    }
    // the probability is the library's
    const r = await send(ports[0], '/v1/models/churn/predict', JSON.stringify(good), json);
    const { frame } = (await import('../data/records.js')).recordsToFrame([good], inputs);
    expect(JSON.parse(r.body).predictions[0].probability).toBe(model.predictFrame(frame!).probability[0]);
  });

  it('answers large columnar batches (scored on worker threads) as the Fastify route does', async () => {
    const big = [true, false].map((hotRoute) => {
      const host = new ModelHost();
      host.set('churn', { name: 'churn', version: 4, alias: null, predictor: model, loadedAt: '' });
      return createApp({ models: host, processMetrics: false, maxBatch: 1000, hotRoute });
    });
    try {
      const bigPorts: number[] = [];
      for (const app of big) {
        await app.listen({ host: '127.0.0.1', port: 0 });
        bigPorts.push((app.server.address() as AddressInfo).port);
      }
      const json = { 'content-type': 'application/json' };
      for (const n of [255, 256, 300, 1000, 1001]) {
        const body = columnar(n);
        // several at once, so answers are written while other batches are being scored
        const answers = await Promise.all(
          [0, 1, 2].flatMap(() => bigPorts.map((p) => send(p, '/v1/models/churn/predict', body, json))),
        );
        for (let k = 0; k < answers.length; k += 2) expect(answers[k], `${n} rows`).toEqual(answers[k + 1]);
        // the hot route reads a batch body once: the route does not read it again
        const reads = vi.spyOn(fastBodyFor(inputs)!, 'read');
        try {
          await send(bigPorts[0], '/v1/models/churn/predict', body, json);
          // (a batch over maxBatch goes to the route, which reads it again for its 400)
          expect(reads, `${n} rows`).toHaveBeenCalledTimes(n > 1000 ? 2 : 1);
        } finally {
          reads.mockRestore();
        }
        if (n > 1000) {
          expect(answers[0].status).toBe(400);
          continue;
        }
        const { columnsToFrame } = await import('../data/records.js');
        const { frame } = columnsToFrame(JSON.parse(body).columns, inputs);
        const expected = model.predictFrame(frame!).probability;
        const got = JSON.parse(answers[0].body).predictions.map(
          (p: { probability: number }) => p.probability,
        );
        expect(got).toEqual(Array.from(expected));
      }
    } finally {
      for (const app of big) await app.close();
    }
  });

  it('reads a body that arrives in pieces, and hands a pieced body over whole', async () => {
    const piecewise = (port: number, body: string) =>
      new Promise<Answer>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/v1/models/churn/predict',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode!, headers: [], body: text }));
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        const cut = Math.floor(body.length / 2);
        req.write(body.slice(0, cut));
        setTimeout(() => req.end(body.slice(cut)), 30);
      });
    for (const body of [
      JSON.stringify(good),
      JSON.stringify({ ...good, tenure: -2 }),
      JSON.stringify([good, good]),
    ]) {
      const [hot, plain] = await Promise.all(ports.map((p) => piecewise(p, body)));
      expect(hot).toEqual(plain);
    }
  });

  it('keeps a connection usable after answering or handing over, and counts metrics the same', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: ports[0],
            path: '/v1/models/churn/predict',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const count = async (re: RegExp) => Number(re.exec((await apps[0].inject('/metrics')).body)?.[1] ?? 0);
    const ok = /keel_predict_requests_total\{model="churn",version="4",status="200"\} (\d+)/;
    const seen = /keel_predict_duration_seconds_count\{model="churn",version="4"\} (\d+)/;
    const before = [await count(ok), await count(seen)];
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push(await post(i % 3 === 2 ? '{"tenure": -5}' : JSON.stringify({ ...good, tenure: i })));
    agent.destroy();
    expect(statuses).toEqual(Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? 400 : 200)));
    // 20 answered by the hot route, each counted once as the Fastify route counts it
    expect([(await count(ok)) - before[0], (await count(seen)) - before[1]]).toEqual([20, 20]);
  });
});
