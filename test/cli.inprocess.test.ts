/**
 * The CLI commands called in-process (the subprocess tests prove the real binary; these let
 * coverage see the command code): demo, run, runs, models, data, init.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnCsv } from '../src/data/index.js';
import { repoRoot } from './cli.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
const cwd = process.cwd();

beforeAll(() => {
  process.chdir(dir);
  process.env.KEEL_LOG_FORMAT = 'json';
});
afterAll(() => {
  process.chdir(cwd);
});

describe('keel (in-process)', () => {
  it('init writes keel.yaml once', async () => {
    const r = await keelIn('init');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'keel.yaml'), 'utf8')).toContain('min_roc_auc');
    const again = await keelIn('init');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/keel.yaml already exists/);
    expect((await keelIn('init', '--force')).code).toBe(0);
  });

  it('demo prints the summary and shows progress', async () => {
    const r = await keelIn('demo', '--rows', '1500', '--seed', '3');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Registered: churn version 1, aliases: staging, production/);
    expect(r.err).toMatch(/✓ train_gradient_boosting/);
    expect(r.err).toMatch(/finished in/);
  });

  it('run executes a pipeline file with params, classification or not', async () => {
    const csv = join(dir, 'churn.csv');
    writeFileSync(csv, churnCsv({ rows: 1200, seed: 8 }));
    const r = await keelIn(
      'run',
      join(repoRoot, 'test', 'fixtures', 'churn-pipeline.ts'),
      '--param',
      `data=${csv}`,
      '-e',
      'custom',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Registered: churn version 2/);
    const tiny = await keelIn(
      'run',
      join(repoRoot, 'test', 'fixtures', 'tiny-pipeline.ts'),
      '-p',
      'n=4',
      '--quiet',
    );
    expect(tiny.code).toBe(0);
    expect(tiny.out).toMatch(/finished in .*numbers .*total/);
    const bad = await keelIn('run', join(repoRoot, 'test', 'fixtures', 'tiny-pipeline.ts'), '-p', 'oops');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--param expects key=value/);
  });

  it('runs list/show and models list/show print tables and JSON', async () => {
    const list = await keelIn('runs', 'list');
    expect(list.out).toMatch(/run\s+experiment\s+name\s+status/);
    expect(list.out).toMatch(/custom/);
    const json = JSON.parse((await keelIn('runs', 'list', '--json', '-e', 'tiny')).out);
    expect(json).toHaveLength(1);
    const show = await keelIn('runs', 'show', json[0].id.slice(0, 8));
    expect(show.out).toMatch(/metrics \(last value\)[\s\S]*sum\s+10/);
    expect(show.out).toMatch(/params[\s\S]*n\s+4/);
    expect(JSON.parse((await keelIn('runs', 'show', json[0].id, '--json')).out).status).toBe('FINISHED');
    const missing = await keelIn('runs', 'show', 'ffffffffff');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/run ffffffffff not found/);
    const models = await keelIn('models', 'list');
    expect(models.out).toMatch(/churn\s+2\s+production=v\d, staging=v2/);
    const detail = await keelIn('models', 'show', 'churn');
    expect(detail.out).toMatch(/audit log[\s\S]*set_alias/);
    expect(JSON.parse((await keelIn('models', 'show', 'churn', '--json')).out).versions).toHaveLength(2);
    expect(JSON.parse((await keelIn('models', 'list', '--json')).out)[0].name).toBe('churn');
    expect((await keelIn('models', 'show', 'nope')).err).toMatch(/registered model "nope" not found/);
  });

  it('data validate and infer-schema', async () => {
    const csv = join(dir, 'churn.csv');
    const schemaFile = join(dir, 'schema.yaml');
    const inferred = await keelIn('data', 'infer-schema', csv, '--target', 'churn', '-o', schemaFile);
    expect(inferred.code).toBe(0);
    const ok = await keelIn('data', 'validate', csv, '--schema', schemaFile);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/usable/);
    const strict = await keelIn(
      'data',
      'validate',
      csv,
      '--schema',
      join(repoRoot, 'examples', 'telco', 'schema.yaml'),
      '--json',
    );
    expect(strict.code).toBe(1);
    expect((await keelIn('data', 'infer-schema', csv, '--target', 'nope')).code).toBe(2);
  });

  it('serve refuses an unknown model reference before listening', async () => {
    const r = await keelIn('serve', '--model', 'ghost@production', '--port', '0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/registered model "ghost" not found|has no alias/);
    expect((await keelIn('serve', '--port', '70000')).code).toBe(2);
  });
});
