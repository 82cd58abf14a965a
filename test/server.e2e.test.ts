/**
 * The tracking server end to end: started in-process on port 0 over SQLite (a temp file) and over
 * the machine's real PostgreSQL (a fresh schema), driven with fetch through MLflow's REST paths
 * and payloads, including MLflow's error format; then auth, artifacts and a SIGTERM shutdown of
 * `keel server` as a separate process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/core/hash.js';
import { s3Client } from '../src/core/s3.js';
import { startTestS3, type TestS3 } from '../src/core/s3.testkit.js';
import { type RunningTrackingServer, startTrackingServer } from '../src/server/index.js';
import { freshSchemas, pgReachable, pgUrl } from '../src/track/pg.testkit.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-server-'));
const reachable = await pgReachable();
const freshSchema = freshSchemas('keel_server');

// biome-ignore lint/suspicious/noExplicitAny: replies are JSON of many shapes; the assertions check them
type Json = Record<string, any>;

interface Reply {
  status: number;
  body: Json;
}

function client(base: string, token?: string) {
  const headers = (json: boolean): Record<string, string> => ({
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  const done = async (r: Response): Promise<Reply> => ({
    status: r.status,
    body: (await r.json()) as Json,
  });
  return {
    get: (path: string, query: Record<string, string | string[]> = {}) => {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) qs.append(k, x);
      return fetch(`${base}/api/2.0/mlflow/${path}?${qs}`, { headers: headers(false) }).then(done);
    },
    post: (path: string, body: unknown) =>
      fetch(`${base}/api/2.0/mlflow/${path}`, {
        method: 'POST',
        headers: headers(true),
        body: JSON.stringify(body),
      }).then(done),
    del: (path: string, body: unknown) =>
      fetch(`${base}/api/2.0/mlflow/${path}`, {
        method: 'DELETE',
        headers: headers(true),
        body: JSON.stringify(body),
      }).then(done),
  };
}

/** Upload, download and list through MLflow's artifact proxy paths, with traversal attempts; returns the run. */
async function artifactRoundTrip(
  server: RunningTrackingServer,
  api: ReturnType<typeof client>,
  name: string,
) {
  const exp = (await api.post('experiments/create', { name })).body.experiment_id;
  const runId = (await api.post('runs/create', { experiment_id: exp })).body.run.info.run_id;
  const root = `${server.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts`;
  const put = (path: string, body: string) =>
    fetch(`${root}/${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
  expect((await put('reports/a.txt', 'alpha')).status).toBe(200);
  expect((await put('reports/deep/b.txt', 'beta')).status).toBe(200);
  expect((await put('top.txt', 'top')).status).toBe(200);
  expect(await (await fetch(`${root}/reports/a.txt`)).text()).toBe('alpha');
  const list = await (
    await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts?path=${exp}/${runId}/artifacts/reports`)
  ).json();
  expect(list).toEqual({
    files: [
      { path: 'a.txt', is_dir: false, file_size: 5 },
      { path: 'deep', is_dir: true },
    ],
  });
  const listed = await api.get('artifacts/list', { run_id: runId });
  expect(listed.body).toEqual({
    root_uri: `mlflow-artifacts:/${exp}/${runId}/artifacts`,
    files: [
      { path: 'reports', is_dir: true },
      { path: 'top.txt', is_dir: false, file_size: 3 },
    ],
  });
  expect((await fetch(`${root}/missing.txt`)).status).toBe(404);
  // traversal: encoded slashes and dots reach the server undecoded by fetch, and are refused
  for (const evil of [
    '..%2F..%2Fetc%2Fpasswd',
    'reports%2F..%2F..%2Fx',
    '%2Fetc%2Fpasswd',
    'a%5C..%5Cb',
    'a%00b',
  ]) {
    const r = await put(evil, 'x');
    expect(r.status, evil).toBe(400);
    expect(await r.json()).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('artifact root'),
    });
    expect((await fetch(`${root}/${evil}`)).status, evil).toBe(400);
  }
  // a raw request line with ../ segments that no client normalised
  const status = await new Promise<number>((resolve, reject) => {
    const u = new URL(server.url);
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: 'GET',
        path: `/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/../../../../etc/passwd`,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(400);
  const other = (await api.post('experiments/create', { name: `${name}-other` })).body.experiment_id;
  expect(
    (await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${other}/${runId}/artifacts/top.txt`))
      .status,
  ).toBe(404);
  expect((await api.get('artifacts/list', { run_id: runId, path: '../x' })).status).toBe(400);
  expect(
    (
      await fetch(`${root}/top.txt`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      })
    ).status,
  ).toBe(415);
  return { exp, runId, root };
}

const backends: [string, () => string][] = [['SQLite', () => join(tmp(), 'keel.db')]];
if (reachable) backends.push(['PostgreSQL', () => `${pgUrl}?schema=${freshSchema()}`]);

describe.each(backends)('tracking server over %s', (_name, storeUrl) => {
  let server: RunningTrackingServer;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startTrackingServer({ port: 0, store: storeUrl(), artifacts: tmp(), tokens: [] });
    api = client(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers /health and describes every route in /openapi.json', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, object>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      'experiments/create',
      'experiments/get',
      'experiments/get-by-name',
      'experiments/search',
      'runs/create',
      'runs/update',
      'runs/get',
      'runs/search',
      'runs/delete',
      'runs/log-metric',
      'runs/log-parameter',
      'runs/set-tag',
      'runs/log-batch',
      'runs/log-inputs',
      'metrics/get-history',
      'registered-models/create',
      'registered-models/get',
      'registered-models/search',
      'model-versions/create',
      'model-versions/get',
      'model-versions/search',
      'model-versions/transition-stage',
    ])
      expect(doc.paths).toHaveProperty([`/api/2.0/mlflow/${p}`]);
    expect(Object.keys(doc.paths['/api/2.0/mlflow/registered-models/alias']).sort()).toEqual([
      'delete',
      'get',
      'post',
    ]);
    expect(doc.paths['/api/2.0/mlflow/runs/log-batch']).toHaveProperty(['post', 'requestBody']);
  });

  it('creates, gets and searches experiments, with MLflow errors for duplicates and unknowns', async () => {
    const created = await api.post('experiments/create', { name: 'churn' });
    expect(created.status).toBe(200);
    const id = created.body.experiment_id as string;
    await api.post('experiments/create', { name: 'fraud' });
    expect(await api.post('experiments/create', { name: 'churn' })).toMatchObject({
      status: 400,
      body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: expect.stringContaining('churn') },
    });
    expect(await api.post('experiments/create', {})).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'name'") },
    });
    const got = await api.get('experiments/get', { experiment_id: id });
    expect(got.body.experiment).toMatchObject({
      experiment_id: id,
      name: 'churn',
      lifecycle_stage: 'active',
    });
    expect(typeof got.body.experiment.creation_time).toBe('number');
    expect(
      (await api.get('experiments/get-by-name', { experiment_name: 'churn' })).body.experiment.experiment_id,
    ).toBe(id);
    expect(await api.get('experiments/get', { experiment_id: 'nope' })).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    expect((await api.get('experiments/get-by-name', { experiment_name: 'nope' })).status).toBe(404);
    const search = await api.post('experiments/search', { filter: "name LIKE 'ch%'" });
    expect(search.body.experiments.map((e: { name: string }) => e.name)).toEqual(['churn']);
    const paged = await api.post('experiments/search', { max_results: 1, order_by: ['name ASC'] });
    expect(paged.body.experiments.map((e: { name: string }) => e.name)).toEqual(['churn']);
    const next = await api.post('experiments/search', {
      max_results: 1,
      order_by: ['name ASC'],
      page_token: paged.body.next_page_token,
    });
    expect(next.body.experiments.map((e: { name: string }) => e.name)).toEqual(['fraud']);
    expect(next.body.next_page_token).toBeUndefined();
    expect(await api.post('experiments/search', { filter: "tags.x = 'y'" })).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('unsupported key') },
    });
  });

  it('logs runs the way an MLflow client does, and reads them back', async () => {
    const exp = (await api.post('experiments/create', { name: 'runs-exp' })).body.experiment_id;
    const t0 = Date.UTC(2026, 0, 1);
    const created = await api.post('runs/create', {
      experiment_id: exp,
      run_name: 'gbdt-1',
      start_time: t0,
      user_id: 'ana',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(created.status).toBe(200);
    const run = created.body.run;
    const runId = run.info.run_id as string;
    expect(run.info).toMatchObject({
      run_uuid: runId,
      experiment_id: exp,
      run_name: 'gbdt-1',
      status: 'RUNNING',
      start_time: t0,
      user_id: 'ana',
      lifecycle_stage: 'active',
      artifact_uri: `mlflow-artifacts:/${exp}/${runId}/artifacts`,
    });
    expect(run.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'risk' },
        { key: 'mlflow.runName', value: 'gbdt-1' },
      ]),
    );
    expect(
      (await api.post('runs/log-parameter', { run_id: runId, key: 'model', value: 'gbdt' })).status,
    ).toBe(200);
    expect(
      (
        await api.post('runs/log-metric', {
          run_id: runId,
          key: 'auc',
          value: 0.8,
          timestamp: t0 + 1,
          step: 0,
        })
      ).status,
    ).toBe(200);
    // protobuf's JSON mapping writes int64 as strings: accepted too
    expect(
      (
        await api.post('runs/log-metric', {
          run_uuid: runId,
          key: 'auc',
          value: 0.9,
          timestamp: String(t0 + 2),
          step: '1',
        })
      ).status,
    ).toBe(200);
    expect((await api.post('runs/set-tag', { run_id: runId, key: 'stage', value: 'dev' })).status).toBe(200);
    const batch = await api.post('runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 50 }, (_, i) => ({
        key: 'loss',
        value: 1 / (i + 1),
        timestamp: t0 + i,
        step: i,
      })),
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'owner', value: 'ana' }],
    });
    expect(batch).toEqual({ status: 200, body: {} });
    const got = (await api.get('runs/get', { run_id: runId })).body.run;
    expect(got.data.params).toEqual(
      expect.arrayContaining([
        { key: 'model', value: 'gbdt' },
        { key: 'depth', value: '6' },
      ]),
    );
    expect(got.data.metrics).toEqual(
      expect.arrayContaining([
        { key: 'auc', value: 0.9, timestamp: t0 + 2, step: 1 },
        { key: 'loss', value: 1 / 50, timestamp: t0 + 49, step: 49 },
      ]),
    );
    expect(got.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'owner', value: 'ana' },
        { key: 'stage', value: 'dev' },
      ]),
    );
    const history = await api.get('metrics/get-history', { run_id: runId, metric_key: 'loss' });
    expect(history.body.metrics.length).toBe(50);
    expect(history.body.metrics[3]).toEqual({ key: 'loss', value: 0.25, timestamp: t0 + 3, step: 3 });
    const page1 = await api.get('metrics/get-history', {
      run_id: runId,
      metric_key: 'loss',
      max_results: '20',
    });
    expect(page1.body.metrics.length).toBe(20);
    const page2 = await api.get('metrics/get-history', {
      run_id: runId,
      metric_key: 'loss',
      max_results: '40',
      page_token: page1.body.next_page_token,
    });
    expect(page2.body.metrics.map((m: { step: number }) => m.step)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 20),
    );
    expect(page2.body).not.toHaveProperty('next_page_token');
    expect([...page1.body.metrics, ...page2.body.metrics]).toEqual(history.body.metrics);
    expect(
      (await api.get('metrics/get-history', { run_id: runId, metric_key: 'loss', page_token: 'bm9wZQ' }))
        .body,
    ).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('page token'),
    });
    // ±Infinity travel as protobuf's JSON strings, in the history and in the run
    for (const [i, value] of ['Infinity', '-Infinity'].entries())
      expect(
        (await api.post('runs/log-metric', { run_id: runId, key: 'inf', value, timestamp: t0, step: i }))
          .status,
      ).toBe(200);
    expect((await api.get('metrics/get-history', { run_id: runId, metric_key: 'inf' })).body).toEqual({
      metrics: [
        { key: 'inf', value: 'Infinity', timestamp: t0, step: 0 },
        { key: 'inf', value: '-Infinity', timestamp: t0, step: 1 },
      ],
    });
    expect((await api.get('runs/get', { run_id: runId })).body.run.data.metrics).toContainEqual({
      key: 'inf',
      value: '-Infinity',
      timestamp: t0,
      step: 1,
    });
    const inputs = await api.post('runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'train' }],
          dataset: {
            name: 'churn',
            digest: 'abc123',
            source_type: 'local',
            source: '{"uri": "data/churn.csv"}',
            profile: '{"num_rows": 7043}',
          },
        },
      ],
    });
    expect(inputs.status).toBe(200);
    expect((await api.get('runs/get', { run_id: runId })).body.run.inputs.dataset_inputs).toEqual([
      {
        tags: [{ key: 'mlflow.data.context', value: 'train' }],
        dataset: {
          name: 'churn',
          digest: 'abc123',
          source_type: 'local',
          source: '{"uri": "data/churn.csv"}',
          profile: '{"num_rows":7043}',
        },
      },
    ]);
    const updated = await api.post('runs/update', { run_id: runId, status: 'FINISHED', end_time: t0 + 1000 });
    expect(updated.body.run_info).toMatchObject({ status: 'FINISHED', end_time: t0 + 1000 });

    // errors: a changed param, a batch with a bad point writes nothing, unknown runs, bad bodies
    expect(await api.post('runs/log-parameter', { run_id: runId, key: 'model', value: 'rf' })).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('cannot change') },
    });
    const bad = await api.post('runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'new', value: 1, timestamp: t0, step: 0 }],
      params: [{ key: 'model', value: 'other' }],
    });
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect((await api.get('metrics/get-history', { run_id: runId, metric_key: 'new' })).body.metrics).toEqual(
      [],
    );
    expect(
      await api.post('runs/log-metric', { run_id: runId, key: 'auc', value: 'high', timestamp: t0 }),
    ).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('value') },
    });
    expect(
      await api.post('runs/log-metric', { run_id: runId, key: 'auc', value: 'NaN', timestamp: t0 }),
    ).toMatchObject({
      status: 400,
    });
    expect(await api.get('runs/get', { run_id: 'f'.repeat(32) })).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    expect(await api.post('runs/create', { experiment_id: 'nope' })).toMatchObject({ status: 404 });
    // MLflow clients default to experiment "0": Keel's "Default" experiment
    const dflt = await api.post('runs/create', { experiment_id: '0' });
    expect((await api.get('experiments/get', { experiment_id: '0' })).body.experiment).toMatchObject({
      name: 'Default',
      experiment_id: dflt.body.run.info.experiment_id,
    });
    expect(await api.post('runs/update', { status: 'FINISHED' })).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining("'run_id'") },
    });
    expect(await api.post('runs/update', { run_id: runId, status: 'DONE' })).toMatchObject({ status: 400 });
    const raw = await fetch(`${server.url}/api/2.0/mlflow/runs/log-metric`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"run_id": ',
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ error_code: 'BAD_REQUEST' });
    expect(await api.get('runs/nope')).toMatchObject({
      status: 404,
      body: { error_code: 'ENDPOINT_NOT_FOUND' },
    });
  });

  it('searches runs with filters, order and page tokens; deleted runs drop out', async () => {
    const exp = (await api.post('experiments/create', { name: 'search-exp' })).body.experiment_id;
    const ids: string[] = [];
    for (const [i, [model, auc]] of (
      [
        ['gbdt', 0.91],
        ['gbdt', 0.85],
        ['logreg', 0.78],
        ['rf', 0.88],
      ] as const
    ).entries()) {
      const id = (
        await api.post('runs/create', {
          experiment_id: exp,
          run_name: `r${i}`,
          tags: [{ key: 'team', value: 'risk' }],
        })
      ).body.run.info.run_id;
      await api.post('runs/log-batch', {
        run_id: id,
        metrics: [{ key: 'auc', value: auc, timestamp: 1, step: 0 }],
        params: [{ key: 'model', value: model }],
      });
      ids.push(id);
    }
    const search = (body: object) => api.post('runs/search', { experiment_ids: [exp], ...body });
    const names = (r: Reply) => r.body.runs.map((x: { info: { run_name: string } }) => x.info.run_name);
    expect(
      names(
        await search({
          filter: "metrics.auc > 0.8 and params.model = 'gbdt' and tags.team = 'risk'",
          order_by: ['metrics.auc DESC'],
        }),
      ),
    ).toEqual(['r0', 'r1']);
    expect(await search({ filter: "params.model LIKE 'g%' or params.model = 'rf'" })).toMatchObject({
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: expect.stringContaining('OR is not supported'),
      },
    });
    const first = await search({ order_by: ['metrics.auc DESC'], max_results: 3 });
    expect(names(first)).toEqual(['r0', 'r3', 'r1']);
    const second = await search({
      order_by: ['metrics.auc DESC'],
      max_results: 3,
      page_token: first.body.next_page_token,
    });
    expect(names(second)).toEqual(['r2']);
    expect(second.body.next_page_token).toBeUndefined();
    const bad = await search({ filter: 'metrics.auc >> 0.8' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(bad.body.message).toContain('position 14');
    expect(bad.body.message).toContain('\n  metrics.auc >> 0.8\n               ^');
    expect((await search({ max_results: 50_001 })).status).toBe(400);
    expect((await api.post('runs/delete', { run_id: ids[2] })).status).toBe(200);
    expect(names(await search({ order_by: ['attributes.run_name'] }))).toEqual(['r0', 'r1', 'r3']);
    expect(names(await search({ run_view_type: 'DELETED_ONLY' }))).toEqual(['r2']);
    expect((await api.get('runs/get', { run_id: ids[2] })).body.run.info.lifecycle_stage).toBe('deleted');
    expect((await api.post('runs/delete', { run_id: 'f'.repeat(32) })).status).toBe(404);
  });

  it('runs the registry: models, versions, aliases, stages, searches and their errors', async () => {
    const exp = (await api.post('experiments/create', { name: 'reg-exp' })).body.experiment_id;
    const runId = (await api.post('runs/create', { experiment_id: exp })).body.run.info.run_id;
    const up = await fetch(
      `${server.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/model/model.json`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: '{"format": "keel-model"}',
      },
    );
    expect(up.status).toBe(200);
    const created = await api.post('registered-models/create', { name: 'churn', description: 'who leaves' });
    expect(created.body.registered_model).toMatchObject({
      name: 'churn',
      description: 'who leaves',
      latest_versions: [],
      aliases: [],
    });
    expect(await api.post('registered-models/create', { name: 'churn' })).toMatchObject({
      status: 400,
      body: { error_code: 'RESOURCE_ALREADY_EXISTS' },
    });
    const v1 = await api.post('model-versions/create', {
      name: 'churn',
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(v1.body.model_version).toMatchObject({
      name: 'churn',
      version: '1',
      current_stage: 'None',
      run_id: runId,
      source: `runs:/${runId}/model/model.json`,
      status: 'READY',
    });
    const v2 = await api.post('model-versions/create', { name: 'churn', source: 's3://bucket/model' });
    expect(v2.body.model_version).toMatchObject({ version: '2', source: 's3://bucket/model', run_id: '' });
    expect(await api.post('model-versions/create', { name: 'nope', source: 'x' })).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    expect(
      (await api.get('model-versions/get', { name: 'churn', version: '2' })).body.model_version.version,
    ).toBe('2');
    expect(await api.get('model-versions/get', { name: 'churn', version: '9' })).toMatchObject({
      status: 404,
    });
    expect(await api.get('model-versions/get', { name: 'churn', version: 'x' })).toMatchObject({
      status: 400,
    });

    expect(
      await api.post('registered-models/alias', { name: 'churn', alias: 'production', version: '1' }),
    ).toEqual({ status: 200, body: {} });
    expect(
      (await api.get('registered-models/alias', { name: 'churn', alias: 'production' })).body.model_version,
    ).toMatchObject({
      version: '1',
      aliases: ['production'],
    });
    await api.post('registered-models/alias', { name: 'churn', alias: 'production', version: 2 });
    expect(
      (await api.get('registered-models/alias', { name: 'churn', alias: 'production' })).body.model_version
        .version,
    ).toBe('2');
    expect(
      await api.post('registered-models/alias', { name: 'churn', alias: 'production', version: 7 }),
    ).toMatchObject({ status: 404 });
    expect(
      await api.post('registered-models/alias', { name: 'churn', alias: '9bad', version: 1 }),
    ).toMatchObject({ status: 400 });
    expect(await api.del('registered-models/alias', { name: 'churn', alias: 'production' })).toEqual({
      status: 200,
      body: {},
    });
    expect(await api.get('registered-models/alias', { name: 'churn', alias: 'production' })).toMatchObject({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    expect((await api.del('registered-models/alias', { name: 'churn', alias: 'production' })).status).toBe(
      404,
    );

    const staged = await api.post('model-versions/transition-stage', {
      name: 'churn',
      version: '1',
      stage: 'production',
      archive_existing_versions: false,
    });
    expect(staged.body.model_version.current_stage).toBe('Production');
    await api.post('model-versions/transition-stage', {
      name: 'churn',
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    expect(
      (await api.get('model-versions/get', { name: 'churn', version: '1' })).body.model_version.current_stage,
    ).toBe('Archived');
    expect(
      await api.post('model-versions/transition-stage', { name: 'churn', version: '1', stage: 'Live' }),
    ).toMatchObject({ status: 400 });

    const model = (await api.get('registered-models/get', { name: 'churn' })).body.registered_model;
    expect(
      model.latest_versions.map((v: { version: string; current_stage: string }) => [
        v.version,
        v.current_stage,
      ]),
    ).toEqual([
      ['1', 'Archived'],
      ['2', 'Production'],
    ]);
    expect(await api.get('registered-models/get', { name: 'nope' })).toMatchObject({ status: 404 });
    await api.post('registered-models/create', { name: 'fraud' });
    expect(
      (await api.get('registered-models/search', { filter: "name LIKE 'ch%'" })).body.registered_models.map(
        (m: { name: string }) => m.name,
      ),
    ).toEqual(['churn']);
    const all = await api.get('registered-models/search', { max_results: '1' });
    expect(all.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['churn']);
    expect(
      (await api.get('registered-models/search', { max_results: '1', page_token: all.body.next_page_token }))
        .body.registered_models[0].name,
    ).toBe('fraud');
    const versions = await api.get('model-versions/search', { filter: "name = 'churn'" });
    expect(versions.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
    expect(
      (await api.get('model-versions/search', { filter: `run_id = '${runId}'` })).body.model_versions.map(
        (v: { version: string }) => v.version,
      ),
    ).toEqual(['1']);
    expect((await api.get('model-versions/search', { filter: 'name = ' })).status).toBe(400);
  });

  it('answers malformed requests with MLflow errors in JSON, never a stack trace', async () => {
    const post = (body: string | undefined, type?: string) =>
      fetch(`${server.url}/api/2.0/mlflow/runs/create`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body,
      });
    const cases: [Promise<Response>, number, string, RegExp][] = [
      [post('{"experiment_id":', 'application/json'), 400, 'BAD_REQUEST', /not valid JSON/],
      [post('{}', 'text/plain'), 415, 'BAD_REQUEST', /send JSON/],
      [post(undefined, 'application/json'), 400, 'BAD_REQUEST', /empty/],
      [
        fetch(`${server.url}/api/2.0/mlflow/metrics/get-history?run_id=x`),
        400,
        'INVALID_PARAMETER_VALUE',
        /metric_key/,
      ],
      [fetch(`${server.url}/api/2.0/mlflow/runs/nope`), 404, 'ENDPOINT_NOT_FOUND', /no route GET/],
    ];
    for (const [reply, status, code, message] of cases) {
      const r = await reply;
      const body = (await r.json()) as Json;
      expect([r.status, body.error_code], JSON.stringify(body)).toEqual([status, code]);
      expect(body.message).toMatch(message);
      expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
  });

  it('uploads, downloads and lists artifacts, refusing paths that leave the run', async () => {
    await artifactRoundTrip(server, api, 'art-exp');
  });
});

describe('tracking server with S3 artifacts (s3rver on 127.0.0.1)', () => {
  let s3: TestS3;
  let bucket: string;
  let server: RunningTrackingServer;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.bucket('keel-server-artifacts');
    server = await startTrackingServer({
      port: 0,
      store: join(tmp(), 'keel.db'),
      artifacts: `s3://${bucket}/team/artifacts`,
      tokens: [],
    });
    api = client(server.url);
  });
  afterAll(async () => {
    await server?.close();
    await s3.stop();
  });

  it('uploads, downloads and lists artifacts kept in the bucket, refusing paths that leave the run', async () => {
    const { exp, runId, root } = await artifactRoundTrip(server, api, 's3-exp');
    // the bytes live in the bucket under the prefix, content-addressed; the run records them
    const keys = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'team/artifacts/' }),
    );
    const alpha = sha256('alpha');
    expect((keys.Contents ?? []).map((o) => o.Key)).toContain(`team/artifacts/${alpha.slice(0, 2)}/${alpha}`);
    expect(keys.Contents).toHaveLength(3);
    const run = (await api.get('runs/get', { run_id: runId })).body.run;
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${exp}/${runId}/artifacts`);
    // a model version registered from the run's artifact, downloaded again through the proxy
    const model = JSON.stringify({ format: 'keel-model', weights: [1, 2, 3] });
    expect(
      (
        await fetch(`${root}/model/model.json`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: model,
        })
      ).status,
    ).toBe(200);
    await api.post('registered-models/create', { name: 's3-model' });
    const v = await api.post('model-versions/create', {
      name: 's3-model',
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(v.body.model_version).toMatchObject({ version: '1', source: `runs:/${runId}/model/model.json` });
    expect(await (await fetch(`${root}/model/model.json`)).text()).toBe(model);
  });

  it('refuses to start on a bucket that does not exist, naming it', async () => {
    await expect(
      startTrackingServer({ port: 0, store: ':memory:', artifacts: 's3://keel-no-bucket/x', tokens: [] }),
    ).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(/s3:\/\/keel-no-bucket\/x .*bucket "keel-no-bucket" does not exist/),
    });
  });

  it('keel server --artifacts s3://… serves artifacts from the bucket, and exits with a clear error on a missing bucket', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      [
        'bin/keel.js',
        'server',
        '--port',
        '0',
        '--store',
        join(dir, 'keel.db'),
        '--artifacts',
        `s3://${bucket}/cli`,
      ],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const url = await serverUrl(child);
    try {
      const cli = client(url);
      const exp = (await cli.post('experiments/create', { name: 'cli' })).body.experiment_id;
      const runId = (await cli.post('runs/create', { experiment_id: exp })).body.run.info.run_id;
      const file = `${url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/a.txt`;
      const put = await fetch(file, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: 'from the cli',
      });
      expect(put.status).toBe(200);
      expect(await (await fetch(file)).text()).toBe('from the cli');
      const h = sha256('from the cli');
      const got = await s3Client().send(
        new GetObjectCommand({ Bucket: bucket, Key: `cli/${h.slice(0, 2)}/${h}` }),
      );
      expect(await got.Body?.transformToString()).toBe('from the cli');
    } finally {
      child.kill('SIGTERM');
    }
    const bad = spawn(
      process.execPath,
      ['bin/keel.js', 'server', '--port', '0', '--store', ':memory:', '--artifacts', 's3://keel-no-bucket/x'],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    bad.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(err).toMatch(/bucket "keel-no-bucket" does not exist/);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  }, 20_000);
});

/** The URL a `keel server` child prints once it listens. */
function serverUrl(child: ReturnType<typeof spawn>): Promise<string> {
  let err = '';
  return new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /server on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('tracking server auth', () => {
  let server: RunningTrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer({
      port: 0,
      store: ':memory:',
      artifacts: tmp(),
      tokens: [
        { name: 'ci', role: 'write', token: 'write-secret-1' },
        { name: 'viewer', role: 'read', token: 'read-secret-1' },
      ],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('needs a token for everything but /health, and a write token for every write', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const anon = client(server.url);
    const reader = client(server.url, 'read-secret-1');
    const writer = client(server.url, 'write-secret-1');
    expect(await anon.post('experiments/create', { name: 'x' })).toEqual({
      status: 401,
      body: { error_code: 'UNAUTHENTICATED', message: expect.stringContaining('bearer token') },
    });
    expect(
      await client(server.url, 'wrong-token-00').get('experiments/get-by-name', { experiment_name: 'x' }),
    ).toMatchObject({
      status: 401,
      body: { error_code: 'UNAUTHENTICATED' },
    });
    expect(await reader.post('experiments/create', { name: 'x' })).toMatchObject({
      status: 403,
      body: { error_code: 'PERMISSION_DENIED', message: expect.stringContaining('viewer') },
    });
    const made = await writer.post('experiments/create', { name: 'x' });
    expect(made.status).toBe(200);
    expect((await reader.get('experiments/get-by-name', { experiment_name: 'x' })).status).toBe(200);
    expect((await reader.post('runs/search', {})).status).toBe(200); // a POST that only reads
    const runId = (await writer.post('runs/create', { experiment_id: made.body.experiment_id })).body.run.info
      .run_id;
    expect(
      (await reader.post('runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: 1 })).status,
    ).toBe(403);
    const art = `${server.url}/api/2.0/mlflow-artifacts/artifacts/${made.body.experiment_id}/${runId}/artifacts/f.txt`;
    const put = (token: string) =>
      fetch(art, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
        body: 'x',
      });
    expect((await put('read-secret-1')).status).toBe(403);
    expect((await put('write-secret-1')).status).toBe(200);
    expect((await fetch(art)).status).toBe(401);
    expect((await fetch(art, { headers: { authorization: 'Bearer read-secret-1' } })).status).toBe(200);
    // the audit log names the token that moved an alias
    await writer.post('registered-models/create', { name: 'm' });
    await writer.post('model-versions/create', { name: 'm', source: 's3://b/m' });
    expect(
      (await reader.post('registered-models/alias', { name: 'm', alias: 'production', version: 1 })).status,
    ).toBe(403);
    expect(
      (await writer.post('registered-models/alias', { name: 'm', alias: 'production', version: 1 })).status,
    ).toBe(200);
  });
});

describe.each(backends)('durability over %s', (backend, storeUrl) => {
  it('loses nothing from 8 concurrent writers logging metrics over HTTP', async () => {
    const server = await startTrackingServer({
      port: 0,
      store: storeUrl(),
      artifacts: tmp(),
      tokens: [],
    });
    const api = client(server.url);
    const exp = (await api.post('experiments/create', { name: 'load' })).body.experiment_id;
    const runId = (await api.post('runs/create', { experiment_id: exp })).body.run.info.run_id;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let b = 0; b < 5; b++) {
          const metrics = Array.from({ length: 50 }, (_, i) => ({
            key: `w${w}`,
            value: b * 50 + i,
            timestamp: 1,
            step: b * 50 + i,
          }));
          const r = await api.post('runs/log-batch', { run_id: runId, metrics });
          expect(r.status).toBe(200);
          await api.post('runs/log-metric', {
            run_id: runId,
            key: 'single',
            value: w,
            timestamp: 1,
            step: b,
          });
        }
      }),
    );
    for (let w = 0; w < 8; w++) {
      const h = (await api.get('metrics/get-history', { run_id: runId, metric_key: `w${w}` })).body.metrics;
      expect(h.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    }
    expect(
      (await api.get('metrics/get-history', { run_id: runId, metric_key: 'single' })).body.metrics.length,
    ).toBe(40);
    await server.close();
  });

  it('leaves a consistent store when the server is killed with SIGKILL during batch writes', async () => {
    const dir = tmp();
    const db = storeUrl();
    const child = spawn(
      process.execPath,
      ['bin/keel.js', 'server', '--port', '0', '--store', db, '--artifacts', join(dir, 'art')],
      {
        cwd: join(import.meta.dirname, '..'),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /server on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const api = client(url);
    const exp = (await api.post('experiments/create', { name: 'kill' })).body.experiment_id;
    const runId = (await api.post('runs/create', { experiment_id: exp })).body.run.info.run_id;
    const BATCH = 5000;
    const metrics = Array.from({ length: BATCH }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
    const exited = new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', resolve);
    });
    // keep batches flowing, and kill the server while they do
    const writers = Array.from({ length: 4 }, async () => {
      for (;;) {
        const r = await api.post('runs/log-batch', { run_id: runId, metrics }).catch(() => null);
        if (!r) return;
      }
    });
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await exited;
    await Promise.all(writers);
    const { openStore, SqliteStore } = await import('../src/track/index.js');
    const store = await openStore(db);
    if (backend === 'SQLite') {
      expect(store).toBeInstanceOf(SqliteStore);
      expect((store as InstanceType<typeof SqliteStore>).db.pragma('integrity_check', { simple: true })).toBe(
        'ok',
      );
    }
    const points = await store.metricHistory(runId, 'm');
    // every batch is all or nothing: whole batches only, each in order
    expect(points.length % BATCH).toBe(0);
    expect(points.length).toBeGreaterThan(0);
    expect(points.findIndex((p, i) => p.step !== i % BATCH)).toBe(-1);
    await store.close();
  }, 20_000);
});

describe('keel server as a process', () => {
  it('answers /health once ready and exits cleanly on SIGTERM', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      [
        'bin/keel.js',
        'server',
        '--port',
        '0',
        '--store',
        join(dir, 'keel.db'),
        '--artifacts',
        join(dir, 'art'),
      ],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /server on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const exp = await client(url).post('experiments/create', { name: 'p' });
    expect(exp.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 20_000);
});
