import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/track/index.js';
import { keel, repoRoot } from './cli.js';

describe('keel serve --model churn@production (subprocess)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-serve-e2e-'));
  let child: ChildProcess;
  let url = '';
  beforeAll(async () => {
    expect(keel(['demo', '--rows', '1500', '--quiet'], dir).code).toBe(0);
    child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'keel.js'),
        'serve',
        '--model',
        'churn@production',
        '--port',
        '0',
        '--poll',
        '0.2',
        '--prediction-log',
        'predictions.db',
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          KEEL_LOG_FORMAT: 'json',
          KEEL_LOG_LEVEL: 'warn',
          KEEL_SERVE_API_KEYS: 'e2e-key, other-key',
        },
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
      child.stdout?.on('data', (d) => {
        out += String(d);
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const predict = (body: unknown) =>
    fetch(`${url}/v1/models/churn/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'e2e-key' },
      body: JSON.stringify(body),
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

  it('answers good records with probabilities and bad ones with a 400 listing field errors', async () => {
    const ok = await predict([good, { ...good, tenure: 60, contract: 'Two year' }]);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as {
      version: number;
      predictions: { probability: number; label: string }[];
    };
    expect(body.version).toBe(1);
    expect(body.predictions).toHaveLength(2);
    expect(body.predictions[0].probability).toBeGreaterThan(body.predictions[1].probability);
    const bad = await predict({ ...good, tenure: 'x', contract: 'Weekly', senior_citizen: undefined });
    expect(bad.status).toBe(400);
    const err = ((await bad.json()) as { error: { fields: { field: string }[] } }).error;
    expect(err.fields.map((f) => f.field).sort()).toEqual(['contract', 'senior_citizen', 'tenure']);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
      /keel_predict_requests_total\{model="churn",version="1",status="400"\} 1/,
    );
  });

  it('refuses /v1/* without one of the API keys from KEEL_SERVE_API_KEYS', async () => {
    const r = await fetch(`${url}/v1/models/churn/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(good),
    });
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('KEEL_E_UNAUTHORIZED');
  });

  it('hot-swaps when the production alias moves in the registry', async () => {
    expect(keel(['demo', '--rows', '1500', '--seed', '9', '--quiet'], dir).code).toBe(0);
    const store = await openStore(join(dir, '.keel', 'keel.db'));
    try {
      await store.setAlias('churn', 'production', 2, { reason: 'e2e test' });
    } finally {
      await store.close();
    }
    let version = 0;
    for (let i = 0; i < 50 && version !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = (await (
        await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer other-key' } })
      ).json()) as { models: { version: number }[] };
      version = list.models[0].version;
    }
    expect(version).toBe(2);
    const res = await predict(good);
    expect(((await res.json()) as { version: number }).version).toBe(2);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // the prediction log was flushed on the way out: the 2 + 1 records scored above, by version
    const db = new Database(join(dir, 'predictions.db'), { readonly: true });
    const rows = db
      .prepare('SELECT version, count(*) AS n FROM predictions GROUP BY version ORDER BY version')
      .all();
    db.close();
    expect(rows).toEqual([
      { version: 1, n: 2 },
      { version: 2, n: 1 },
    ]);
  });
});
