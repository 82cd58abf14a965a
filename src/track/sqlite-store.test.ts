import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsArtifactStore } from './artifacts.js';
import { gitCommit } from './git.js';
import { migrations } from './migrations.js';
import { openArtifactStore, openStore } from './open.js';
import { SqliteStore } from './sqlite-store.js';
import { describeTrackingStore } from './store-suite.testkit.js';

describeTrackingStore('SqliteStore in memory', async () => new SqliteStore(':memory:'));
describeTrackingStore(
  'SqliteStore on a file',
  async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'keel-store-')), 'sub', 'keel.db')),
);

describe('SqliteStore specifics', () => {
  it('applies migrations once, in WAL mode, and reopens a file with its data', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'keel-store-')), 'keel.db');
    const a = new SqliteStore(path);
    expect(a.schemaVersion()).toBe(migrations.at(-1)?.id);
    expect(a.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const run = await a.createRun({ experiment: 'x' });
    await a.close();
    const b = new SqliteStore(path);
    expect(b.migrate()).toEqual([]);
    expect((await b.getRun(run.id)).id).toBe(run.id);
    await b.close();
  });

  it('rolls back a registration that fails midway: no model, no version, no audit entry', async () => {
    const s = new SqliteStore(':memory:');
    s.db.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON model_versions BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    await expect(
      s.createModelVersion({
        name: 'churn',
        runId: null,
        artifact: { name: 'm', sha256: 'a'.repeat(64), size: 1, uri: 'aa/a' },
      }),
    ).rejects.toThrow(/disk full/);
    expect(await s.listRegisteredModels()).toEqual([]);
    expect(await s.auditLog()).toEqual([]);
    await s.close();
  });

  it('logs 10,000 metric points in one batch quickly', async () => {
    const s = new SqliteStore(':memory:');
    const run = await s.createRun({ experiment: 'x' });
    const points = Array.from({ length: 10_000 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i }));
    await s.logMetricBatch(run.id, points);
    expect((await s.metricHistory(run.id, 'loss')).length).toBe(10_000);
    await s.close();
  });

  it('reports an unopenable store path clearly', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keel-store-')), 'f');
    writeFileSync(file, 'x');
    expect(() => new SqliteStore(join(file, 'keel.db'))).toThrow();
  });
});

describe('openStore / openArtifactStore', () => {
  it('opens SQLite from a path, sqlite: URL or :memory:, and refuses what is not there yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-open-'));
    for (const url of [join(dir, 'a.db'), `sqlite:${join(dir, 'b.db')}`, ':memory:']) {
      const s = await openStore(url);
      expect(s).toBeInstanceOf(SqliteStore);
      await s.close();
    }
    await expect(openStore('postgres://u:secret@127.0.0.1/test')).rejects.toThrow(
      /PostgreSQL store is not available yet \(store: postgres:\/\/\*\*\*@/,
    );
    await expect(openStore('mysql://x')).rejects.toMatchObject({ code: 'KEEL_E_CONFIG' });
    expect(openArtifactStore(dir)).toBeInstanceOf(FsArtifactStore);
    expect(() => openArtifactStore('s3://bucket/x')).toThrow(/S3 artifact store is not available yet/);
  });
});

describe('FsArtifactStore', () => {
  it('stores content once under its hash, reads it back, refuses paths outside the root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-art-'));
    const a = new FsArtifactStore(root);
    const r1 = await a.put('x.txt', 'hello');
    const r2 = await a.put('y.txt', Buffer.from('hello'));
    expect(r1.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(r2.uri).toBe(r1.uri);
    expect(r1.size).toBe(5);
    expect((await a.get(r1)).toString()).toBe('hello');
    expect(await a.exists(r1.uri)).toBe(true);
    expect(await a.exists('00/missing')).toBe(false);
    await expect(a.get('00/missing')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
    for (const evil of ['../etc/passwd', '/etc/passwd', 'aa/../../x', ''])
      await expect(a.get(evil)).rejects.toThrow(/escapes the artifact store/);
  });
});

describe('gitCommit', () => {
  it('is null outside a repository and a hash inside one', () => {
    expect(gitCommit(mkdtempSync(join(tmpdir(), 'keel-nogit-')))).toBeNull();
    const here = gitCommit(process.cwd());
    expect(here === null || /^[0-9a-f]{40}$/.test(here)).toBe(true);
  });
});
