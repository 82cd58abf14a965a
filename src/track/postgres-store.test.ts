/**
 * The store conformance suite against the machine's real PostgreSQL (127.0.0.1:5432, db `test`),
 * each store in a fresh schema. KEEL_TEST_POSTGRES overrides the URL. Without a reachable server
 * the suite is skipped locally and fails in CI, where the server is part of the machine.
 */
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from './migrations.js';
import { openStore } from './open.js';
import { freshSchemas, pgReachable, pgUrl as url } from './pg.testkit.js';
import { PgDriver } from './pg-driver.js';
import { PostgresStore } from './postgres-store.js';
import { describeJsonHistory, describeTrackingStore } from './store-suite.testkit.js';

const reachable = await pgReachable();
const freshSchema = freshSchemas();

describe.skipIf(!reachable)('PostgresStore', () => {
  describeTrackingStore('PostgresStore', async () => {
    const store = new PostgresStore(url, { schema: freshSchema() });
    await store.migrated();
    return store;
  });

  describeJsonHistory('PostgresStore', async () => {
    const store = new PostgresStore(url, { schema: freshSchema() });
    await store.migrated();
    return store;
  });

  it('writes many rows in one statement exactly: text with quotes, backslashes and braces, integer and real values', async () => {
    const store = new PostgresStore(url, { schema: freshSchema() });
    try {
      const run = await store.createRun({ experiment: 'unnest' });
      const tricky = ['a"b', 'back\\slash\\', '{x,y}', 'NULL', '', ' spaced ', 'é✓', "it's", '\\"'];
      const tags = Object.fromEntries(tricky.map((v, i) => [`k${i}${v}`, v]));
      await store.setTags(run.id, tags);
      await store.logParams(run.id, Object.fromEntries(tricky.map((v, i) => [`p${i}`, v])));
      expect((await store.getRun(run.id)).tags).toEqual(tags);
      // a column of integers only, one of reals, one constant: all land as logged
      await store.logMetricBatch(run.id, [
        { key: 'ints', value: 1, step: 0, timestamp: 5 },
        { key: 'ints', value: 2 ** 52, step: 1, timestamp: 5 },
        { key: 'ints', value: -3, step: 2, timestamp: 5 },
      ]);
      await store.logMetricBatch(run.id, [
        { key: 'reals', value: 0.1, step: 0 },
        { key: 'reals', value: Number.NEGATIVE_INFINITY, step: 1 },
        { key: 'reals', value: 1e-300, step: 2 },
        { key: 'reals', value: 2 ** 60, step: 3 },
      ]);
      expect((await store.metricHistory(run.id, 'ints')).map((p) => [p.value, p.step])).toEqual([
        [1, 0],
        [2 ** 52, 1],
        [-3, 2],
      ]);
      expect((await store.metricHistory(run.id, 'reals')).map((p) => p.value)).toEqual([
        0.1,
        Number.NEGATIVE_INFINITY,
        1e-300,
        2 ** 60,
      ]);
    } finally {
      await store.close();
    }
  });

  it('migration 3 turns ISO metric timestamps into ms, keeping ids and order', async () => {
    const schema = freshSchema();
    const old = new PgDriver(url, { schema });
    await migrate(old, migrations.slice(0, 2));
    const run = 'b'.repeat(32);
    await old.write((c) =>
      c.exec(`
      INSERT INTO experiments VALUES ('e1', 'old', '2025-01-01T00:00:00.000Z');
      INSERT INTO runs (id, experiment_id, status, start_time) VALUES ('${run}', 'e1', 'RUNNING', '2025-01-01T00:00:00.000Z');
      INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES
        ('${run}', 'loss', 0.5, 0, '2025-06-07T08:09:10.123Z'),
        ('${run}', 'loss', 0.25, 1, '1999-12-31T23:59:59.999Z'),
        ('${run}', 'auc', 0.9, 0, '2025-06-07T10:09:10.001+02:00');
    `),
    );
    await old.close();
    const s = new PostgresStore(url, { schema });
    expect(await s.migrated()).toEqual([3]);
    expect((await s.metricHistory(run, 'loss')).map((p) => [p.step, p.timestamp])).toEqual([
      [0, '2025-06-07T08:09:10.123Z'],
      [1, '1999-12-31T23:59:59.999Z'],
    ]);
    expect((await s.metricHistory(run, 'auc'))[0].timestamp).toBe('2025-06-07T08:09:10.001Z');
    await s.logMetrics(run, { loss: 0.1 }, 2);
    expect((await s.metricHistory(run, 'loss')).map((p) => p.step)).toEqual([0, 1, 2]);
    await s.close();
  });

  it('opens from a postgres:// URL with ?schema=, migrates once, and keeps data across reopenings', async () => {
    const schema = freshSchema();
    const a = await openStore(`${url}?schema=${schema}`);
    const run = await a.createRun({ experiment: 'pg' });
    await a.logMetrics(run.id, { auc: 0.9 });
    await a.close();
    const b = (await openStore(`${url}?schema=${schema}`)) as PostgresStore;
    expect((await b.getRun(run.id)).metrics).toEqual({ auc: 0.9 });
    expect(await b.schemaVersion()).toBeGreaterThan(0);
    await b.close();
  });

  it('lets several processes open one fresh schema at the same moment: migrations run once, in turn', async () => {
    const schema = freshSchema();
    const stores = [1, 2, 3, 4].map(() => new PostgresStore(url, { schema }));
    try {
      await Promise.all(stores.map((s) => s.migrated()));
      const runs = await Promise.all(stores.map((s, i) => s.createRun({ experiment: `e${i % 2}` })));
      expect(new Set(runs.map((r) => r.id)).size).toBe(4);
      expect(await Promise.all(stores.map((s) => s.schemaVersion()))).toEqual(
        Array(4).fill(await stores[0].schemaVersion()),
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('gives distinct version numbers to concurrent registrations from several stores', async () => {
    const schema = freshSchema();
    const first = await openStore(`${url}?schema=${schema}`);
    const stores = [first, ...(await Promise.all([1, 2, 3].map(() => openStore(`${url}?schema=${schema}`))))];
    const ref = { name: 'model/model.json', sha256: 'a'.repeat(64), size: 1, uri: 'aa/a' };
    const versions = await Promise.all(
      stores.flatMap((s) =>
        Array.from({ length: 5 }, () => s.createModelVersion({ name: 'churn', runId: null, artifact: ref })),
      ),
    );
    expect(versions.map((v) => v.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await Promise.all(stores.map((s) => s.close()));
  });
});
