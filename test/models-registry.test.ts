/** keel models promote | rollback | history | lineage, in-process against a real SQLite registry. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore, SqliteStore } from '../src/track/index.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-models-'));
const cwd = process.cwd();

let runId = '';
beforeAll(async () => {
  process.chdir(dir);
  process.env.KEEL_ACTOR = 'test-user';
  const store = new SqliteStore(join(dir, '.keel', 'keel.db'));
  const artifacts = new FsArtifactStore(join(dir, '.keel', 'artifacts'));
  const run = await store.createRun({ experiment: 'churn', gitCommit: 'abc1234' });
  runId = run.id;
  await store.logDatasetInput(runId, {
    name: 'churn.csv',
    sha256: 'f'.repeat(64),
    source: 'data/churn.csv',
    rows: 10_000,
    context: 'train',
  });
  await store.logMetrics(runId, { roc_auc: 0.84 });
  await store.endRun(runId, 'FINISHED');
  for (let i = 0; i < 3; i++) {
    const ref = await artifacts.put('model.json', JSON.stringify({ v: i }));
    await store.createModelVersion({ name: 'churn', runId: i === 1 ? runId : null, artifact: ref });
  }
  await store.setAlias('churn', 'production', 1, { actor: 'pipeline' });
  await store.close();
});
afterAll(() => {
  process.chdir(cwd);
  delete process.env.KEEL_ACTOR;
});

describe('keel models', () => {
  it('promote moves an alias and records who and why; an unknown version is a clear error', async () => {
    const r = await keelIn('models', 'promote', 'churn', '2', '--reason', 'beats v1 on the holdout');
    expect(r.code).toBe(0);
    expect(r.out).toContain('churn@production: version 1 -> version 2');
    const bad = await keelIn('models', 'promote', 'churn', '9');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/version 9/);
    expect((await keelIn('models', 'promote', 'churn', 'two')).code).toBe(2);
  });

  it('history lists every change with actor, versions and reason', async () => {
    const r = await keelIn('models', 'history', 'churn', '--alias', 'production', '--json');
    expect(r.code).toBe(0);
    const log = JSON.parse(r.out) as {
      actor: string;
      fromVersion: number | null;
      toVersion: number;
      reason: string;
    }[];
    expect(log.map((e) => [e.actor, e.fromVersion, e.toVersion])).toEqual([
      ['pipeline', null, 1],
      ['test-user', 1, 2],
    ]);
    expect(log[1].reason).toBe('beats v1 on the holdout');
    const table = await keelIn('models', 'history', 'churn');
    expect(table.out).toContain('create_version');
    expect(table.out).toContain('set_alias');
  });

  it('rollback gives the alias back to its previous holder, and refuses when there is none', async () => {
    const r = await keelIn('models', 'rollback', 'churn', '--reason', 'latency regression');
    expect(r.code).toBe(0);
    expect(r.out).toContain('churn@production: version 2 -> version 1 (rolled back)');
    const shown = JSON.parse((await keelIn('models', 'show', 'churn', '--json')).out);
    expect(shown.model.aliases.production).toBe(1);
    const last = shown.audit.at(-1);
    expect(last).toMatchObject({ actor: 'test-user', fromVersion: 2, toVersion: 1 });
    expect(last.reason).toMatch(/^rollback: latency regression \(undoes the change of .* by test-user\)$/);
    const none = await keelIn('models', 'rollback', 'churn', '--alias', 'staging');
    expect(none.code).toBe(1);
    expect(none.err).toContain('no history for alias "staging"');
  });

  it('lineage leads from a version to its run, code commit and datasets', async () => {
    const r = await keelIn('models', 'lineage', 'churn', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain(runId);
    expect(r.out).toContain('abc1234');
    expect(r.out).toContain('churn.csv');
    expect(r.out).toContain('roc_auc=0.84');
    const json = JSON.parse((await keelIn('models', 'lineage', 'churn', '2', '--json')).out);
    expect(json.run.inputs[0].sha256).toBe('f'.repeat(64));
    const orphan = await keelIn('models', 'lineage', 'churn', '1');
    expect(orphan.out).toContain('none recorded');
  });
});
