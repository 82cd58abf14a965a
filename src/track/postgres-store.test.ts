/**
 * The store conformance suite against the machine's real PostgreSQL (127.0.0.1:5432, db `test`),
 * each store in a fresh schema. KEEL_TEST_POSTGRES overrides the URL. Without a reachable server
 * the suite is skipped locally and fails in CI, where the server is part of the machine.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from './open.js';
import { freshSchemas, pgReachable, pgUrl as url } from './pg.testkit.js';
import { PostgresStore } from './postgres-store.js';
import { describeTrackingStore } from './store-suite.testkit.js';

const reachable = await pgReachable();
const freshSchema = freshSchemas();

describe.skipIf(!reachable)('PostgresStore', () => {
  describeTrackingStore('PostgresStore', async () => {
    const store = new PostgresStore(url, { schema: freshSchema() });
    await store.migrated();
    return store;
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
