import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/track/index.js';
import { type CliResult, keel } from './cli.js';

describe('keel demo (subprocess, fresh directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-demo-'));
  let first: CliResult;
  beforeAll(() => {
    first = keel(['demo', '--rows', '4000'], dir);
  });

  it('exits 0 and prints the summary: models with metrics, gate, version and alias, sample predictions', () => {
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    const out = first.stdout;
    for (const model of ['logistic_regression', 'gradient_boosting', 'random_forest'])
      expect(out).toContain(model);
    expect(out).toMatch(/roc_auc/);
    expect(out).toMatch(/Quality gate: PASSED/);
    expect(out).toMatch(/Registered: churn version 1, aliases: staging, production/);
    expect(out).toMatch(/Sample predictions/);
    const sampleRows = out
      .split('Sample predictions')[1]
      .split('\n')
      .filter((l) => /\b0\.\d{4}\b/.test(l));
    expect(sampleRows.length).toBe(3);
    // progress went to stderr: step names with timings
    for (const s of ['ingest', 'validate', 'split', 'features', 'evaluate', 'gate', 'register', 'promote'])
      expect(first.stderr).toContain(s);
  });

  it('leaves a complete store: finished run, dataset hash, artifacts, model version with aliases', async () => {
    const store = await openStore(join(dir, '.keel', 'keel.db'));
    try {
      const runs = await store.listRuns();
      expect(runs).toHaveLength(1);
      const run = await store.getRun(runs[0].id);
      expect(run.status).toBe('FINISHED');
      expect(run.inputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(run.inputs[0].rows).toBe(4000);
      expect(run.metrics['test.roc_auc']).toBeGreaterThan(0.75);
      expect(run.params.seed).toBe('42');
      expect(run.artifacts.map((a) => a.name)).toEqual(
        expect.arrayContaining(['model/model.json', 'reports/validation.json', 'reports/evaluation.json']),
      );
      const mv = await store.getModelVersionByAlias('churn', 'production');
      expect(mv?.version).toBe(1);
      expect(mv?.runId).toBe(run.id);
      expect((await store.getModelVersionByAlias('churn', 'staging'))?.version).toBe(1);
      expect(existsSync(join(dir, '.keel', 'artifacts'))).toBe(true);
      expect(readdirSync(join(dir, '.keel', 'artifacts')).length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('a second demo registers version 2 and compares it with production on the same test rows', async () => {
    const second = keel(['demo', '--rows', '4000', '--quiet'], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Registered: churn version 2/);
    expect(second.stdout).toMatch(/vs production v1/);
    const list = keel(['runs', 'list'], dir);
    expect(list.code).toBe(0);
    expect(list.stdout.match(/FINISHED/g)?.length).toBe(2);
    const show = keel(['models', 'show', 'churn'], dir);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/staging/);
    expect(show.stdout).toMatch(/production/);
    const runId = (await (async () => {
      const store = await openStore(join(dir, '.keel', 'keel.db'));
      try {
        return (await store.listRuns())[0].id;
      } finally {
        await store.close();
      }
    })()) as string;
    const detail = keel(['runs', 'show', runId.slice(0, 8)], dir);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toContain('test.roc_auc');
    expect(detail.stdout).toContain('model/model.json');
  });
});
