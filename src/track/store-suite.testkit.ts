/**
 * The behaviour every TrackingStore must have, as a vitest suite over a store factory. SQLite runs
 * it now; the PostgreSQL store (issue 5) will run the same suite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactRef, TrackingStore } from './types.js';

const artifact = (n: string): ArtifactRef => ({
  name: 'model/model.json',
  sha256: n.repeat(64).slice(0, 64),
  size: 10,
  uri: `aa/${n}`,
});

export function describeTrackingStore(name: string, makeStore: () => Promise<TrackingStore>): void {
  describe(`TrackingStore conformance: ${name}`, () => {
    let store: TrackingStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates experiments once and runs with their tags and git commit', async () => {
      const a = await store.getOrCreateExperiment('churn');
      expect(await store.getOrCreateExperiment('churn')).toEqual(a);
      const run = await store.createRun({
        experiment: 'churn',
        name: 'first',
        tags: { team: 'risk' },
        gitCommit: 'abc',
      });
      expect(run).toMatchObject({
        experimentName: 'churn',
        name: 'first',
        status: 'RUNNING',
        gitCommit: 'abc',
        endTime: null,
      });
      expect(run.id).toMatch(/^[0-9a-f]{32}$/);
      const detail = await store.getRun(run.id);
      expect(detail.tags).toEqual({ team: 'risk' });
      expect((await store.listExperiments()).map((e) => e.name)).toEqual(['churn']);
    });

    it('records params, metrics with steps and history, tags, inputs, artifacts and the end', async () => {
      const run = await store.createRun({ experiment: 'e' });
      await store.logParams(run.id, { lr: 0.1, depth: 6, model: 'gbdt', fast: true });
      await store.logParams(run.id, { lr: 0.1 }); // same value again is fine
      await expect(store.logParams(run.id, { lr: 0.2 })).rejects.toMatchObject({ code: 'KEEL_E_CONFLICT' });
      await store.logMetrics(run.id, { loss: 0.9 }, 0);
      await store.logMetrics(run.id, { loss: 0.5, auc: 0.8 }, 1);
      await store.setTags(run.id, { a: '1' });
      await store.setTags(run.id, { a: '2' });
      await store.logDatasetInput(run.id, {
        name: 'churn.csv',
        sha256: 'f'.repeat(64),
        source: '/data/churn.csv',
        rows: 100,
        context: 'raw',
      });
      await store.logArtifact(run.id, artifact('1'));
      await store.endRun(run.id, 'FINISHED');
      const d = await store.getRun(run.id);
      expect(d.params).toEqual({ depth: '6', fast: 'true', lr: '0.1', model: 'gbdt' });
      expect(d.metrics).toEqual({ loss: 0.5, auc: 0.8 });
      expect(d.tags).toEqual({ a: '2' });
      expect(d.inputs).toEqual([
        { name: 'churn.csv', sha256: 'f'.repeat(64), source: '/data/churn.csv', rows: 100, context: 'raw' },
      ]);
      expect(d.artifacts).toEqual([artifact('1')]);
      expect(d.status).toBe('FINISHED');
      expect(d.endTime).not.toBeNull();
      const hist = await store.metricHistory(run.id, 'loss');
      expect(hist.map((p) => [p.value, p.step])).toEqual([
        [0.9, 0],
        [0.5, 1],
      ]);
    });

    it('finds runs by an unambiguous prefix and lists newest first, per experiment', async () => {
      const r1 = await store.createRun({ experiment: 'a' });
      const r2 = await store.createRun({ experiment: 'b' });
      expect((await store.getRun(r1.id.slice(0, 10))).id).toBe(r1.id);
      expect((await store.listRuns()).map((r) => r.id)).toEqual([r2.id, r1.id]);
      expect((await store.listRuns({ experiment: 'a' })).map((r) => r.id)).toEqual([r1.id]);
      expect((await store.listRuns({ limit: 1 })).length).toBe(1);
      await expect(store.getRun('0'.repeat(32))).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      await expect(store.logMetrics('nope', { x: 1 })).rejects.toThrow(/run nope not found/);
    });

    it('rejects a non-numeric metric and writes none of the batch', async () => {
      const run = await store.createRun({ experiment: 'e' });
      await expect(store.logMetrics(run.id, { good: 1, bad: Number.NaN })).rejects.toMatchObject({
        code: 'KEEL_E_INPUT',
      });
      expect((await store.getRun(run.id)).metrics).toEqual({});
    });

    it('registers versions in order, moves aliases with an audit trail, deletes aliases', async () => {
      const run = await store.createRun({ experiment: 'e' });
      const v1 = await store.createModelVersion({
        name: 'churn',
        runId: run.id,
        artifact: artifact('1'),
        description: 'first',
        actor: 'ann',
      });
      const v2 = await store.createModelVersion({
        name: 'churn',
        runId: run.id,
        artifact: artifact('2'),
        actor: 'ann',
      });
      expect([v1.version, v2.version]).toEqual([1, 2]);
      await store.setAlias('churn', 'production', 1, { actor: 'ann', reason: 'first good one' });
      await store.setAlias('churn', 'production', 2, { actor: 'bob', reason: 'better' });
      await store.setAlias('churn', 'staging', 2);
      expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(2);
      expect(await store.getModelVersionByAlias('churn', 'canary')).toBeNull();
      const model = await store.getRegisteredModel('churn');
      expect(model).toMatchObject({
        name: 'churn',
        latestVersion: 2,
        aliases: { production: 2, staging: 2 },
      });
      expect((await store.getModelVersion('churn', 2)).aliases).toEqual(['production', 'staging']);
      expect((await store.listModelVersions('churn')).map((v) => v.version)).toEqual([2, 1]);
      const moves = (await store.auditLog('churn')).filter(
        (a) => a.action === 'set_alias' && a.alias === 'production',
      );
      expect(moves.map((m) => [m.actor, m.fromVersion, m.toVersion, m.reason])).toEqual([
        ['ann', null, 1, 'first good one'],
        ['bob', 1, 2, 'better'],
      ]);
      await store.deleteAlias('churn', 'staging', { reason: 'done' });
      expect(await store.getModelVersionByAlias('churn', 'staging')).toBeNull();
      await expect(store.deleteAlias('churn', 'staging')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      expect((await store.listRegisteredModels()).map((m) => m.name)).toEqual(['churn']);
    });

    it('refuses aliases to missing versions and unknown models, changing nothing', async () => {
      await store.createModelVersion({ name: 'm', runId: null, artifact: artifact('1') });
      await expect(store.setAlias('m', 'production', 7)).rejects.toThrow(/model m has no version 7/);
      await expect(store.setAlias('m', '9bad', 1)).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
      await expect(store.getRegisteredModel('nope')).rejects.toThrow(/registered model "nope" not found/);
      await expect(store.getModelVersion('nope', 1)).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      await expect(
        store.createModelVersion({ name: 'bad name', runId: null, artifact: artifact('1') }),
      ).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
      expect((await store.getRegisteredModel('m')).aliases).toEqual({});
    });
  });
}
