import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Migration, migrate, migrations } from './migrations.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqliteStore } from './sqlite-store.js';
import { describeJsonHistory, describeTrackingStore } from './store-suite.testkit.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-store-'));
const ref = { name: 'm', sha256: 'a'.repeat(64), size: 1, uri: 'aa/a' };
const count = (s: SqliteStore, table: string) =>
  (s.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describeTrackingStore('SqliteStore in memory', async () => new SqliteStore(':memory:'));
describeTrackingStore('SqliteStore on a file', async () => new SqliteStore(join(tmp(), 'sub', 'keel.db')));
describeJsonHistory('SqliteStore', async () => new SqliteStore(join(tmp(), 'keel.db')));

describe('SqliteStore: the file, pragmas and migrations', () => {
  it('creates the file and its directory, in WAL mode with foreign keys and a busy timeout', async () => {
    const path = join(tmp(), 'a', 'b', 'keel.db');
    const s = new SqliteStore(path);
    expect(await s.migrated()).toEqual(migrations.map((m) => m.id));
    expect(existsSync(path)).toBe(true);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    await s.close();
  });

  it('applies migrations once and reopens a file with its data', async () => {
    const path = join(tmp(), 'keel.db');
    const a = new SqliteStore(path);
    expect(await a.schemaVersion()).toBe(migrations.at(-1)?.id);
    const run = await a.createRun({ experiment: 'x' });
    await a.close();
    const b = new SqliteStore(path);
    expect(await b.migrated()).toEqual([]);
    expect(count(b, 'schema_migrations')).toBe(migrations.length);
    expect((await b.getRun(run.id)).experimentName).toBe('x');
    await b.close();
  });

  it('rolls back a migration that fails halfway, and applies later ones in id order', async () => {
    const driver = new SqliteDriver(':memory:');
    const list: Migration[] = [
      { id: 2, name: 'second', sql: 'CREATE TABLE b (x INTEGER)' },
      { id: 1, name: 'first', sql: 'CREATE TABLE a (id {{AUTO_ID}})' },
    ];
    expect(await migrate(driver, list)).toEqual([1, 2]);
    const broken = [
      ...list,
      { id: 3, name: 'broken', sql: 'CREATE TABLE c (x INTEGER); CREATE TABLE a (y)' },
    ];
    await expect(migrate(driver, broken)).rejects.toMatchObject({ code: 'KEEL_E_STORE' });
    expect(driver.db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined();
    expect(driver.db.prepare('SELECT MAX(id) AS v FROM schema_migrations').get()).toEqual({ v: 2 });
    await driver.close();
  });

  it('migration 3 turns ISO metric timestamps into ms, keeping ids, order and the id sequence', async () => {
    const path = join(tmp(), 'keel.db');
    const old = new SqliteDriver(path);
    await migrate(old, migrations.slice(0, 2));
    const run = 'b'.repeat(32);
    old.db.exec(`
      INSERT INTO experiments VALUES ('e1', 'old', '2025-01-01T00:00:00.000Z');
      INSERT INTO runs (id, experiment_id, status, start_time) VALUES ('${run}', 'e1', 'RUNNING', '2025-01-01T00:00:00.000Z');
      INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES
        ('${run}', 'loss', 0.5, 0, '2025-06-07T08:09:10.123Z'),
        ('${run}', 'loss', 0.25, 1, '1999-12-31T23:59:59.999Z'),
        ('${run}', 'auc', 0.9, 0, '2025-06-07T10:09:10.001+02:00'),
        ('${run}', 'loss', 0.125, 2, 'not a time'),
        ('${run}', 'loss', 0.0625, 3, '2025-06-07T08:09:10.123Z');
      DELETE FROM metrics WHERE id = 5; -- AUTOINCREMENT never hands out 5 again
    `);
    await old.close();
    const s = new SqliteStore(path);
    expect(await s.migrated()).toEqual([3]);
    expect((await s.metricHistory(run, 'loss')).map((p) => [p.step, p.timestamp])).toEqual([
      [0, '2025-06-07T08:09:10.123Z'],
      [1, '1999-12-31T23:59:59.999Z'],
      [2, '1970-01-01T00:00:00.000Z'], // unreadable: the epoch, rather than a store that cannot open
    ]);
    expect((await s.getRun(run)).latestMetrics).toContainEqual({
      key: 'auc',
      value: 0.9,
      step: 0,
      timestamp: '2025-06-07T08:09:10.001Z',
    });
    expect(s.db.prepare('SELECT typeof(timestamp) AS t FROM metrics GROUP BY 1').all()).toEqual([
      { t: 'integer' },
    ]);
    expect(
      s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics'").all(),
    ).toEqual([{ name: 'metrics_run_key' }]);
    await s.logMetrics(run, { loss: 0.1 }, 3);
    expect(s.db.prepare("SELECT id FROM metrics WHERE key = 'loss' ORDER BY id").pluck().all()).toEqual([
      1, 2, 4, 6,
    ]);
    await s.close();
  });

  it('refuses a database written by a newer Keel', async () => {
    const path = join(tmp(), 'keel.db');
    const a = new SqliteStore(path);
    await a.migrated();
    a.db.prepare("INSERT INTO schema_migrations VALUES (999, 'from the future', 'x')").run();
    await a.close();
    const b = new SqliteStore(path);
    await expect(b.listRuns()).rejects.toThrow(/migrations this version of Keel does not know \(999\)/);
    await b.close();
  });

  it('reports a path that cannot be opened, or a file that is not a database, as KEEL_E_STORE', async () => {
    const file = join(tmp(), 'f');
    writeFileSync(file, 'x'.repeat(4096));
    expect(() => new SqliteStore(join(file, 'keel.db'))).toThrow(
      expect.objectContaining({ code: 'KEEL_E_STORE', message: expect.stringMatching(/cannot open/) }),
    );
    expect(() => new SqliteStore(file)).toThrow(expect.objectContaining({ code: 'KEEL_E_STORE' }));
    const s = new SqliteStore(':memory:');
    await s.close();
    await expect(s.listRuns()).rejects.toMatchObject({ code: 'KEEL_E_STORE' });
  });

  it('keeps the audit log append-only', async () => {
    const s = new SqliteStore(':memory:');
    await s.createModelVersion({ name: 'm', runId: null, artifact: ref });
    expect(() => s.db.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(count(s, 'audit_log')).toBe(2);
    await s.close();
  });
});

describe('SqliteStore: failures midway leave nothing behind', () => {
  const failOn = async (s: SqliteStore, table: string, when = '1') => {
    await s.migrated();
    s.db.exec(
      `CREATE TRIGGER boom BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
  };

  it('a registration: no model, no version, no audit entry', async () => {
    const s = new SqliteStore(':memory:');
    await failOn(s, 'model_versions');
    await expect(s.createModelVersion({ name: 'churn', runId: null, artifact: ref })).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(/disk full/),
    });
    expect(await s.listRegisteredModels()).toEqual([]);
    expect(await s.auditLog()).toEqual([]);
    await s.close();
  });

  it('an alias move: the alias stays where it was, no audit entry', async () => {
    const s = new SqliteStore(':memory:');
    await s.createModelVersion({ name: 'm', runId: null, artifact: ref });
    await s.createModelVersion({ name: 'm', runId: null, artifact: ref });
    await s.setAlias('m', 'production', 1);
    await failOn(s, 'audit_log');
    await expect(s.setAlias('m', 'production', 2)).rejects.toThrow(/disk full/);
    expect((await s.getRegisteredModel('m')).aliases).toEqual({ production: 1 });
    expect(count(s, 'audit_log')).toBe(4);
    await s.close();
  });

  it('a run with tags: neither the run nor its new experiment', async () => {
    const s = new SqliteStore(':memory:');
    await failOn(s, 'tags');
    await expect(s.createRun({ experiment: 'new', tags: { a: '1' } })).rejects.toThrow(/disk full/);
    expect([count(s, 'runs'), count(s, 'experiments')]).toEqual([0, 0]);
    await s.close();
  });

  it('a 10,000-point metric batch failing at point 5,000: no point written', async () => {
    const s = new SqliteStore(':memory:');
    const run = await s.createRun({ experiment: 'x' });
    await failOn(s, 'metrics', 'NEW.step = 5000');
    const points = Array.from({ length: 10_000 }, (_, i) => ({ key: 'loss', value: i, step: i }));
    await expect(s.logMetricBatch(run.id, points)).rejects.toThrow(/disk full/);
    expect(count(s, 'metrics')).toBe(0);
    await s.close();
  });
});

describe('SqliteStore: concurrency and speed', () => {
  it('two connections to one file register versions without duplicates', async () => {
    const path = join(tmp(), 'keel.db');
    const a = new SqliteStore(path);
    await a.migrated();
    const b = new SqliteStore(path);
    const vs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).createModelVersion({ name: 'm', runId: null, artifact: ref }),
      ),
    );
    expect(vs.map((v) => v.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await Promise.all([a.close(), b.close()]);
  });

  it('resolves run id prefixes, refusing an ambiguous one', async () => {
    const s = new SqliteStore(':memory:');
    const exp = await s.getOrCreateExperiment('x');
    const insert = s.db.prepare(
      "INSERT INTO runs (id, experiment_id, status, start_time) VALUES (?, ?, 'RUNNING', '2026-01-01T00:00:00.000Z')",
    );
    insert.run(`abcdef01${'0'.repeat(24)}`, exp.id);
    insert.run(`abcdef02${'0'.repeat(24)}`, exp.id);
    await expect(s.getRun('abcdef')).rejects.toMatchObject({
      code: 'KEEL_E_USAGE',
      message: expect.stringMatching(/matches several runs \(abcdef010000, abcdef020000\)/),
    });
    expect(await s.resolveRunId('abcdef02')).toBe(`abcdef02${'0'.repeat(24)}`);
    await s.close();
  });

  it.each([
    ['in memory', ':memory:'],
    ['on a file', 'file'],
  ])('logs 10,000 metric points in one batch, every point kept in order (%s)', async (_, where) => {
    const s = new SqliteStore(where === 'file' ? join(tmp(), 'keel.db') : where);
    const run = await s.createRun({ experiment: 'x' });
    const points = Array.from({ length: 10_000 }, (_, i) => ({
      key: `m${i % 10}`,
      value: 1 / (i + 1),
      step: i,
    }));
    await s.logMetricBatch(run.id, points.slice(0, 10)); // warm up the prepared statements
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      await s.logMetricBatch(run.id, points);
      times.push(performance.now() - t0);
    }
    // speed is measured in bench/track.ts, not asserted here (shared machines are noisy)
    console.log(`logMetricBatch 10,000 points ${where}: ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
    const history = await s.metricHistory(run.id, 'm3');
    expect(history).toHaveLength(3001);
    // the warm-up point, then three batches in the order they were logged
    expect(history.slice(1, 4).map((p) => [p.step, p.value])).toEqual([
      [3, 1 / 4],
      [13, 1 / 14],
      [23, 1 / 24],
    ]);
    await s.close();
  });
});
