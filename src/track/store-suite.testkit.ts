/**
 * The behaviour every TrackingStore must have, as a vitest suite over a store factory: SQLite (a
 * file and :memory:), PostgreSQL and the HTTP client run the same suite; the SQL stores also run
 * describeJsonHistory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactRef, JsonMetricHistory, TrackingStore } from './types.js';

const artifact = (n: string, name = 'model/model.json'): ArtifactRef => ({
  name,
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

    describe('experiments and runs', () => {
      it('creates experiments once and runs with their tags and git commit', async () => {
        const a = await store.getOrCreateExperiment('churn');
        expect(a.id).toMatch(/^[0-9a-f]{32}$/);
        expect(await store.getOrCreateExperiment('churn')).toEqual(a);
        const run = await store.createRun({
          experiment: 'churn',
          name: 'first',
          tags: { team: 'risk' },
          gitCommit: 'abc',
        });
        expect(run).toMatchObject({
          experimentId: a.id,
          experimentName: 'churn',
          name: 'first',
          status: 'RUNNING',
          gitCommit: 'abc',
          endTime: null,
          error: null,
        });
        expect(run.id).toMatch(/^[0-9a-f]{32}$/);
        expect(Date.parse(run.startTime)).not.toBeNaN();
        expect((await store.getRun(run.id)).tags).toEqual({ team: 'risk' });
        await store.createRun({ experiment: 'other' });
        expect((await store.listExperiments()).map((e) => e.name)).toEqual(['churn', 'other']);
        await expect(store.createRun({ experiment: ' ' })).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
      });

      it('records params, metrics with steps and history, tags, inputs, artifacts and the end', async () => {
        const run = await store.createRun({ experiment: 'e' });
        await store.logParams(run.id, { lr: 0.1, depth: 6, model: 'gbdt', fast: true });
        await store.logParams(run.id, { lr: 0.1, extra: 'x' }); // the same value again is fine
        await store.logMetrics(run.id, { loss: 0.9 }, 0);
        await store.logMetrics(run.id, { loss: 0.5, auc: 0.1 + 0.2 }, 1);
        await store.setTags(run.id, { a: '1', b: 'x' });
        await store.setTags(run.id, { a: '2' });
        const input = {
          name: 'churn.csv',
          sha256: 'f'.repeat(64),
          source: '/d/churn.csv',
          rows: 100,
          context: 'raw',
        };
        await store.logDatasetInput(run.id, { ...input, rows: 99 });
        await store.logDatasetInput(run.id, input); // same name and context: replaced
        await store.logDatasetInput(run.id, { ...input, context: 'train', rows: 80 });
        await store.logArtifact(run.id, artifact('1'));
        await store.logArtifact(run.id, artifact('2', 'reports/validation.json'));
        await store.endRun(run.id, 'FINISHED');
        const d = await store.getRun(run.id);
        expect(d.params).toEqual({ depth: '6', extra: 'x', fast: 'true', lr: '0.1', model: 'gbdt' });
        expect(d.metrics).toEqual({ loss: 0.5, auc: 0.1 + 0.2 });
        expect(d.tags).toEqual({ a: '2', b: 'x' });
        expect(d.inputs).toEqual([input, { ...input, context: 'train', rows: 80 }]);
        expect(d.artifacts).toEqual([artifact('1'), artifact('2', 'reports/validation.json')]);
        expect(d.status).toBe('FINISHED');
        expect(d.endTime! >= d.startTime).toBe(true);
        const hist = await store.metricHistory(run.id, 'loss');
        expect(hist.map((p) => [p.key, p.value, p.step])).toEqual([
          ['loss', 0.9, 0],
          ['loss', 0.5, 1],
        ]);
        expect(await store.metricHistory(run.id, 'nothing')).toEqual([]);
      });

      it('refuses to change a param, writing none of that call', async () => {
        const run = await store.createRun({ experiment: 'e' });
        await store.logParams(run.id, { lr: 0.1 });
        const err = await store.logParams(run.id, { a: 1, lr: 0.2 }).catch((e) => e);
        expect(err).toMatchObject({ code: 'KEEL_E_CONFLICT' });
        expect(err.message).toMatch(/param "lr" .* is already "0.1"; it cannot change to "0.2"/);
        expect((await store.getRun(run.id)).params).toEqual({ lr: '0.1' });
        await expect(store.logParams(run.id, { o: {} as unknown as string })).rejects.toMatchObject({
          code: 'KEEL_E_INPUT',
        });
      });

      it('logs a metric batch in order with steps and timestamps, all or nothing', async () => {
        const run = await store.createRun({ experiment: 'e' });
        await store.logMetricBatch(run.id, [
          { key: 'loss', value: 3, step: 0 },
          { key: 'auc', value: 0.5 },
          { key: 'loss', value: 2, step: 2 ** 40 },
          { key: 'loss', value: Number.POSITIVE_INFINITY, step: 5, timestamp: '2020-01-01T00:00:00.000Z' },
          { key: 'loss', value: 1, step: 3 },
        ]);
        const hist = await store.metricHistory(run.id, 'loss');
        expect(hist.map((p) => [p.value, p.step])).toEqual([
          [3, 0],
          [2, 2 ** 40],
          [Number.POSITIVE_INFINITY, 5],
          [1, 3],
        ]);
        expect(hist[2].timestamp).toBe('2020-01-01T00:00:00.000Z');
        expect((await store.getRun(run.id)).metrics).toEqual({ auc: 0.5, loss: 1 });
        for (const bad of [
          [
            { key: 'x', value: 1 },
            { key: 'y', value: Number.NaN },
          ],
          [
            { key: 'x', value: 1 },
            { key: 'y', value: '2' as unknown as number },
          ],
          [{ key: 'x', value: 1, step: 1.5 }],
          [{ key: '', value: 1 }],
        ])
          await expect(store.logMetricBatch(run.id, bad)).rejects.toMatchObject({ code: 'KEEL_E_INPUT' });
        await expect(store.logMetrics(run.id, { good: 1, bad: Number.NaN })).rejects.toMatchObject({
          code: 'KEEL_E_INPUT',
        });
        expect(Object.keys((await store.getRun(run.id)).metrics)).toEqual(['auc', 'loss']);
      });

      it('ends a run once, keeping the error of a failed run', async () => {
        const run = await store.createRun({ experiment: 'e' });
        await store.endRun(run.id, 'FAILED', 'step "train" failed: boom');
        const d = await store.getRun(run.id);
        expect([d.status, d.error]).toEqual(['FAILED', 'step "train" failed: boom']);
        await expect(store.endRun(run.id, 'FINISHED')).rejects.toMatchObject({ code: 'KEEL_E_CONFLICT' });
        expect((await store.getRun(run.id)).status).toBe('FAILED');
      });

      it('says which run is missing, for every call that takes a run id', async () => {
        const id = 'f'.repeat(32);
        const calls: (() => Promise<unknown>)[] = [
          () => store.logParams(id, { a: 1 }),
          () => store.logMetrics(id, { a: 1 }),
          () => store.logMetricBatch(id, [{ key: 'a', value: 1 }]),
          () => store.setTags(id, { a: '1' }),
          () => store.logArtifact(id, artifact('1')),
          () => store.logDatasetInput(id, { name: 'd', sha256: 'a', source: 's', rows: 1, context: 'raw' }),
          () => store.endRun(id, 'FINISHED'),
          () => store.getRun(id),
          () => store.metricHistory(id, 'a'),
          () => store.createModelVersion({ name: 'm', runId: id, artifact: artifact('1') }),
        ];
        for (const call of calls)
          await expect(call()).rejects.toMatchObject({
            code: 'KEEL_E_NOT_FOUND',
            message: `run ${id} not found`,
          });
        expect(await store.listRegisteredModels()).toEqual([]);
      });

      it('finds runs by an unambiguous prefix of 6+ characters and lists newest first', async () => {
        const r1 = await store.createRun({ experiment: 'a' });
        const r2 = await store.createRun({ experiment: 'b' });
        const r3 = await store.createRun({ experiment: 'a' });
        expect((await store.getRun(r1.id.slice(0, 6))).id).toBe(r1.id);
        expect(await store.resolveRunId(r2.id.slice(0, 12).toUpperCase())).toBe(r2.id);
        expect(await store.resolveRunId(r2.id)).toBe(r2.id);
        await expect(store.getRun(r1.id.slice(0, 5))).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        await expect(store.getRun('%')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        expect((await store.listRuns()).map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
        expect((await store.listRuns({ experiment: 'a' })).map((r) => r.id)).toEqual([r3.id, r1.id]);
        expect((await store.listRuns({ experiment: 'none' })).length).toBe(0);
        expect((await store.listRuns({ limit: 1 })).map((r) => r.id)).toEqual([r3.id]);
        await expect(store.listRuns({ limit: -1 })).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
      });

      it('keeps concurrent calls apart: a failing call leaves no trace, the others all land', async () => {
        const run = await store.createRun({ experiment: 'e' });
        const calls = Array.from({ length: 20 }, (_, i) =>
          i === 7
            ? store.logMetricBatch(run.id, [
                { key: 'm7', value: 1 },
                { key: 'm7', value: Number.NaN },
              ])
            : store.logMetrics(run.id, { [`m${i}`]: i }, i),
        );
        const results = await Promise.allSettled(calls);
        expect(results.filter((r) => r.status === 'rejected').length).toBe(1);
        const metrics = (await store.getRun(run.id)).metrics;
        expect(Object.keys(metrics).length).toBe(19);
        expect(metrics.m7).toBeUndefined();
      });

      it('keeps each of several concurrent batches of one metric together and in order', async () => {
        const run = await store.createRun({ experiment: 'e' });
        const SIZE = 5000;
        await Promise.all(
          Array.from({ length: 4 }, (_, b) =>
            store.logBatch(run.id, {
              metrics: Array.from({ length: SIZE }, (_, i) => ({ key: 'loss', value: b, step: i })),
            }),
          ),
        );
        const points = await store.metricHistory(run.id, 'loss');
        expect(points).toHaveLength(4 * SIZE);
        const blocks = Array.from({ length: 4 }, (_, k) => points.slice(k * SIZE, (k + 1) * SIZE));
        for (const block of blocks) {
          expect(new Set(block.map((p) => p.value)).size).toBe(1); // one batch per block
          expect(block.map((p) => p.step)).toEqual(Array.from({ length: SIZE }, (_, i) => i));
        }
        expect(new Set(blocks.map((b) => b[0].value)).size).toBe(4);
      });
    });

    describe('registry', () => {
      it('registers versions in order, moves aliases with an audit trail, deletes aliases', async () => {
        const run = await store.createRun({ experiment: 'e' });
        const v1 = await store.createModelVersion({
          name: 'churn',
          runId: run.id,
          artifact: artifact('1'),
          description: 'first',
          actor: 'ann',
        });
        expect(v1).toMatchObject({
          name: 'churn',
          version: 1,
          runId: run.id,
          artifact: artifact('1'),
          aliases: [],
        });
        const v2 = await store.createModelVersion({
          name: 'churn',
          runId: null,
          artifact: artifact('2'),
          actor: 'ann',
        });
        expect([v2.version, v2.runId, v2.description]).toEqual([2, null, null]);
        await store.setAlias('churn', 'production', 1, { actor: 'ann', reason: 'first good one' });
        await store.setAlias('churn', 'production', 2, { actor: 'bob', reason: 'better' });
        await store.setAlias('churn', 'production', 2, { actor: 'bob' }); // already there: no entry
        await store.setAlias('churn', 'staging', 2);
        expect((await store.getModelVersionByAlias('churn', 'production'))?.version).toBe(2);
        expect(await store.getModelVersionByAlias('churn', 'canary')).toBeNull();
        expect(await store.getRegisteredModel('churn')).toMatchObject({
          name: 'churn',
          description: null,
          latestVersion: 2,
          aliases: { production: 2, staging: 2 },
        });
        expect((await store.getModelVersion('churn', 2)).aliases).toEqual(['production', 'staging']);
        expect((await store.getModelVersion('churn', 1)).aliases).toEqual([]);
        expect((await store.listModelVersions('churn')).map((v) => v.version)).toEqual([2, 1]);
        const log = await store.auditLog('churn');
        expect(log.map((a) => [a.action, a.alias, a.fromVersion, a.toVersion])).toEqual([
          ['create_model', null, null, null],
          ['create_version', null, null, 1],
          ['create_version', null, null, 2],
          ['set_alias', 'production', null, 1],
          ['set_alias', 'production', 1, 2],
          ['set_alias', 'staging', null, 2],
        ]);
        expect(log.filter((a) => a.action === 'set_alias').map((a) => [a.actor, a.reason])).toEqual([
          ['ann', 'first good one'],
          ['bob', 'better'],
          [expect.any(String), null],
        ]);
        await store.deleteAlias('churn', 'staging', { actor: 'cy', reason: 'done' });
        expect(await store.getModelVersionByAlias('churn', 'staging')).toBeNull();
        expect((await store.auditLog('churn')).at(-1)).toMatchObject({
          action: 'delete_alias',
          actor: 'cy',
          alias: 'staging',
          fromVersion: 2,
          toVersion: null,
          reason: 'done',
        });
        await expect(store.deleteAlias('churn', 'staging')).rejects.toMatchObject({
          code: 'KEEL_E_NOT_FOUND',
        });
        expect((await store.listRegisteredModels()).map((m) => m.name)).toEqual(['churn']);
      });

      it('numbers versions without gaps or duplicates under concurrent registrations', async () => {
        const vs = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.createModelVersion({
              name: i % 2 ? 'odd' : 'even',
              runId: null,
              artifact: artifact(String(i)),
            }),
          ),
        );
        for (const m of ['odd', 'even'])
          expect(
            vs
              .filter((v) => v.name === m)
              .map((v) => v.version)
              .sort((a, b) => a - b),
          ).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.auditLog()).filter((a) => a.action === 'create_model').length).toBe(2);
        expect((await store.listRegisteredModels()).map((m) => [m.name, m.latestVersion])).toEqual([
          ['even', 6],
          ['odd', 6],
        ]);
      });

      it('refuses bad names, missing versions and unknown models, changing nothing', async () => {
        await store.createModelVersion({ name: 'm', runId: null, artifact: artifact('1') });
        const before = await store.auditLog();
        await expect(store.setAlias('m', 'production', 7)).rejects.toThrow(/model m has no version 7/);
        await expect(store.setAlias('m', '9bad', 1)).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
        await expect(store.setAlias('nope', 'production', 1)).rejects.toThrow(
          /registered model "nope" not found/,
        );
        await expect(store.getRegisteredModel('nope')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        await expect(store.getModelVersion('nope', 1)).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        await expect(store.getModelVersionByAlias('nope', 'production')).rejects.toMatchObject({
          code: 'KEEL_E_NOT_FOUND',
        });
        await expect(store.listModelVersions('nope')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        await expect(store.deleteAlias('nope', 'production')).rejects.toMatchObject({
          code: 'KEEL_E_NOT_FOUND',
        });
        for (const bad of ['bad name', '', '-x', 'a/b'])
          await expect(
            store.createModelVersion({ name: bad, runId: null, artifact: artifact('1') }),
          ).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
        expect((await store.getRegisteredModel('m')).aliases).toEqual({});
        expect(await store.auditLog()).toEqual(before);
        expect((await store.listRegisteredModels()).map((m) => m.name)).toEqual(['m']);
      });

      it('creates empty registered models once and moves versions between stages with an audit trail', async () => {
        const m = await store.createRegisteredModel('fraud', { description: 'card fraud' });
        expect(m).toMatchObject({
          name: 'fraud',
          description: 'card fraud',
          latestVersion: null,
          aliases: {},
        });
        await expect(store.createRegisteredModel('fraud')).rejects.toMatchObject({ code: 'KEEL_E_CONFLICT' });
        const v1 = await store.createModelVersion({ name: 'fraud', runId: null, artifact: artifact('1') });
        const v2 = await store.createModelVersion({ name: 'fraud', runId: null, artifact: artifact('2') });
        expect(v1.stage).toBe('None');
        expect((await store.transitionModelVersionStage('fraud', 1, 'Production')).stage).toBe('Production');
        const moved = await store.transitionModelVersionStage('fraud', v2.version, 'Production', {
          archiveExisting: true,
          reason: 'better auc',
        });
        expect(moved.stage).toBe('Production');
        expect((await store.getModelVersion('fraud', 1)).stage).toBe('Archived');
        await expect(store.transitionModelVersionStage('fraud', 1, 'Live' as 'None')).rejects.toMatchObject({
          code: 'KEEL_E_USAGE',
        });
        await expect(store.transitionModelVersionStage('fraud', 9, 'Staging')).rejects.toMatchObject({
          code: 'KEEL_E_NOT_FOUND',
        });
        const log = (await store.auditLog('fraud')).filter((e) => e.action === 'transition_stage');
        expect(log.map((e) => [e.toVersion, e.reason])).toEqual([
          [1, 'None -> Production'],
          [1, 'Production -> Archived'],
          [2, 'None -> Production: better auc'],
        ]);
      });
    });

    describe('experiments by id and name, run updates and deletion', () => {
      it('creates experiments once by name and finds them by id and name', async () => {
        const e = await store.createExperiment('exp');
        await expect(store.createExperiment('exp')).rejects.toMatchObject({ code: 'KEEL_E_CONFLICT' });
        expect(await store.getExperiment(e.id)).toEqual(e);
        expect(await store.getExperimentByName('exp')).toEqual(e);
        await expect(store.getExperiment('nope')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
        await expect(store.getExperimentByName('nope')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      });

      it('updates status, end time and name, and soft-deletes and restores runs', async () => {
        const run = await store.createRun({ experiment: 'e', startTime: '2020-01-02T03:04:05.006Z' });
        expect(run.startTime).toBe('2020-01-02T03:04:05.006Z');
        expect(run.lifecycleStage).toBe('active');
        const done = await store.updateRun(run.id, {
          status: 'FINISHED',
          endTime: '2020-01-02T04:00:00.000Z',
          name: 'renamed',
        });
        expect(done).toMatchObject({
          status: 'FINISHED',
          endTime: '2020-01-02T04:00:00.000Z',
          name: 'renamed',
        });
        await expect(store.updateRun(run.id, { status: 'DONE' as 'FINISHED' })).rejects.toMatchObject({
          code: 'KEEL_E_USAGE',
        });
        await expect(store.updateRun('f'.repeat(32), { status: 'FAILED' })).rejects.toMatchObject({
          code: 'KEEL_E_NOT_FOUND',
        });
        await store.deleteRun(run.id);
        expect((await store.getRun(run.id)).lifecycleStage).toBe('deleted');
        expect((await store.searchRuns()).runs).toEqual([]);
        expect((await store.searchRuns({ runViewType: 'DELETED_ONLY' })).runs.map((r) => r.id)).toEqual([
          run.id,
        ]);
        await store.restoreRun(run.id);
        expect((await store.searchRuns()).runs.map((r) => r.id)).toEqual([run.id]);
        await expect(store.deleteRun('f'.repeat(32))).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      });
    });

    describe('logBatch', () => {
      it('writes metrics, params and tags of one run together, or nothing of them', async () => {
        const run = await store.createRun({ experiment: 'e' });
        await store.logBatch(run.id, {
          metrics: [
            { key: 'loss', value: 0.5, step: 0, timestamp: '2026-01-01T00:00:00.000Z' },
            { key: 'loss', value: 0.4, step: 1 },
          ],
          params: { lr: 0.1 },
          tags: { team: 'risk' },
        });
        const got = await store.getRun(run.id);
        expect(got).toMatchObject({ params: { lr: '0.1' }, tags: { team: 'risk' }, metrics: { loss: 0.4 } });
        expect((await store.metricHistory(run.id, 'loss'))[0].timestamp).toBe('2026-01-01T00:00:00.000Z');
        await expect(
          store.logBatch(run.id, {
            metrics: [{ key: 'auc', value: 0.9 }],
            params: { lr: 0.2 },
            tags: { x: 'y' },
          }),
        ).rejects.toMatchObject({ code: 'KEEL_E_CONFLICT' });
        await expect(
          store.logBatch(run.id, { metrics: [{ key: 'auc', value: Number.NaN }] }),
        ).rejects.toMatchObject({
          code: 'KEEL_E_INPUT',
        });
        expect(await store.getRun(run.id)).toEqual(got);
        await expect(store.logBatch('f'.repeat(32), {})).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
      });
    });

    describe('searchRuns', () => {
      /** Six runs over two experiments with metrics, params and tags to filter on. */
      async function seed() {
        const rows = [
          { exp: 'a', model: 'gbdt', team: 'risk', auc: 0.91, status: 'FINISHED' },
          { exp: 'a', model: 'gbdt', team: 'Risk', auc: 0.85, status: 'FINISHED' },
          { exp: 'a', model: 'logreg', team: 'risk', auc: 0.78, status: 'FAILED' },
          { exp: 'a', model: 'rf', team: 'growth', auc: null, status: 'RUNNING' },
          { exp: 'b', model: 'gbdt', team: 'risk', auc: 0.95, status: 'FINISHED' },
          { exp: 'b', model: 'gbdt_v2', team: 'risk', auc: 0.6, status: 'FINISHED' },
        ] as const;
        const ids: string[] = [];
        for (const [i, r] of rows.entries()) {
          const run = await store.createRun({ experiment: r.exp, name: `run${i}`, tags: { team: r.team } });
          await store.logParams(run.id, { model: r.model, depth: i });
          if (r.auc !== null) {
            await store.logMetrics(run.id, { auc: r.auc - 0.5 }, 0); // an earlier point: not the latest
            await store.logMetrics(run.id, { auc: r.auc, loss: 1 - r.auc }, 1);
          }
          if (r.status !== 'RUNNING') await store.endRun(run.id, r.status);
          ids.push(run.id);
        }
        const a = (await store.getExperimentByName('a')).id;
        const b = (await store.getExperimentByName('b')).id;
        return { ids, a, b };
      }
      const names = (p: { runs: { name: string | null }[] }) => p.runs.map((r) => r.name);

      it('filters on the latest metric value, params, tags and attributes, in one or more experiments', async () => {
        const { a, b } = await seed();
        const both = [a, b];
        const q = (filter: string, orderBy?: string[]) =>
          store.searchRuns({ experimentIds: both, filter, orderBy }).then(names);
        expect(
          await q("metrics.auc > 0.8 and params.model = 'gbdt' and tags.team = 'risk'", ['metrics.auc DESC']),
        ).toEqual(['run4', 'run0']);
        expect(await q('metrics.auc >= 0.85', ['metrics.auc'])).toEqual(['run1', 'run0', 'run4']);
        expect(await q('metrics.auc < 0.5')).toEqual([]); // the earlier, lower points do not count
        expect(await q("attributes.status = 'FAILED'")).toEqual(['run2']);
        expect(await q("attributes.status != 'FINISHED'", ['attributes.run_name'])).toEqual(['run2', 'run3']);
        expect(await q("params.model LIKE 'gbdt%'", ['attributes.run_name'])).toEqual([
          'run0',
          'run1',
          'run4',
          'run5',
        ]);
        expect(await q("params.model LIKE 'gbdt_'")).toEqual([]); // _ is one character
        expect(await q("tags.team LIKE 'risk'", ['attributes.run_name'])).toEqual([
          'run0',
          'run2',
          'run4',
          'run5',
        ]);
        expect(await q("tags.team ILIKE 'RISK'", ['attributes.run_name'])).toEqual([
          'run0',
          'run1',
          'run2',
          'run4',
          'run5',
        ]);
        expect(await q("params.model != 'gbdt'", ['attributes.run_name'])).toEqual(['run2', 'run3', 'run5']);
        expect(await q("params.missing != 'x'")).toEqual([]); // a run without the param never matches
        expect(await q("attributes.run_name IN ('run1', 'run3')", ['attributes.run_name DESC'])).toEqual([
          'run3',
          'run1',
        ]);
        expect(await q('metrics.loss <= 0.1', ['metrics.loss'])).toEqual(['run4', 'run0']);
        expect(names(await store.searchRuns({ experimentIds: [b], orderBy: ['metrics.auc DESC'] }))).toEqual([
          'run4',
          'run5',
        ]);
        // runs without the metric come last in either direction; default order is newest first
        expect(names(await store.searchRuns({ experimentIds: [a], orderBy: ['metrics.auc ASC'] }))).toEqual([
          'run2',
          'run1',
          'run0',
          'run3',
        ]);
        expect(names(await store.searchRuns({ experimentIds: [a] }))).toEqual([
          'run3',
          'run2',
          'run1',
          'run0',
        ]);
        expect(names(await store.searchRuns({ experimentIds: [a], orderBy: ['params.depth DESC'] }))).toEqual(
          ['run3', 'run2', 'run1', 'run0'],
        );
        const run = (await store.searchRuns({ filter: "attributes.run_name = 'run0'" })).runs[0];
        expect(run).toMatchObject({
          params: { model: 'gbdt', depth: '0' },
          metrics: { auc: 0.91 },
          tags: { team: 'risk' },
        });
        expect(run.latestMetrics.find((m) => m.key === 'auc')).toMatchObject({ value: 0.91, step: 1 });
        expect(run).toEqual(await store.getRun(run.id));
      });

      it('compares times in milliseconds and ids, and refuses bad filters with their position', async () => {
        const { ids } = await seed();
        const start = Date.parse((await store.getRun(ids[2])).startTime);
        expect(
          names(
            await store.searchRuns({
              filter: `attributes.start_time >= ${start}`,
              orderBy: ['attributes.start_time'],
            }),
          ),
        ).toEqual(['run2', 'run3', 'run4', 'run5']);
        expect(names(await store.searchRuns({ filter: `attributes.run_id = '${ids[1]}'` }))).toEqual([
          'run1',
        ]);
        await expect(store.searchRuns({ filter: 'metrics.auc >> 1' })).rejects.toMatchObject({
          code: 'KEEL_E_USAGE',
          details: { position: 13 },
        });
      });

      it('pages through results with tokens that belong to one search', async () => {
        await seed();
        const seen: string[] = [];
        let token: string | null = null;
        let pages = 0;
        do {
          const page: Awaited<ReturnType<TrackingStore['searchRuns']>> = await store.searchRuns({
            orderBy: ['attributes.run_name'],
            maxResults: 4,
            pageToken: token,
          });
          seen.push(...names(page).map(String));
          token = page.nextPageToken;
          pages++;
        } while (token);
        expect(pages).toBe(2);
        expect(seen).toEqual(['run0', 'run1', 'run2', 'run3', 'run4', 'run5']);
        const first = await store.searchRuns({ orderBy: ['attributes.run_name'], maxResults: 4 });
        await expect(
          store.searchRuns({
            orderBy: ['attributes.run_name DESC'],
            maxResults: 4,
            pageToken: first.nextPageToken,
          }),
        ).rejects.toThrow(/different search/);
        expect((await store.searchRuns({ maxResults: 6 })).nextPageToken).toBeNull();
      });
    });
  });
}

/**
 * The SQL stores' metricHistoryJson (what get-history sends): the same points as metricHistory,
 * written by the database as MLflow's Metric JSON, exact doubles, ±Infinity as protobuf's strings,
 * any key text escaped, and paged.
 */
export function describeJsonHistory(
  name: string,
  makeStore: () => Promise<TrackingStore & JsonMetricHistory>,
): void {
  describe(`metric history as JSON: ${name}`, () => {
    let store: TrackingStore & JsonMetricHistory;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('writes every point exactly, in the order logged, with timestamps in ms', async () => {
      const run = await store.createRun({ experiment: 'json' });
      const key = `a"b'c\\d/é\u0001 ✓`;
      const values = [
        1 / 3,
        0.1 + 0.2,
        5e-324,
        1e300,
        -2.5,
        0,
        2 ** 53 + 2,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        123456789.12345679,
      ];
      await store.logMetricBatch(
        run.id,
        values.map((value, i) => ({
          key,
          value,
          step: i === 3 ? -7 : i * 2 ** 30,
          timestamp: 1_700_000_000_000 + i,
        })),
      );
      await store.logMetricBatch(run.id, [
        { key: 'other', value: 1 },
        { key, value: 4, step: 99, timestamp: '2026-03-04T05:06:07.089Z' },
      ]);
      const h = await store.metricHistoryJson(run.id, key);
      const points = await store.metricHistory(run.id, key);
      expect(points).toHaveLength(11);
      expect(h.count).toBe(11);
      expect(h.more).toBe(false);
      const expected = points.map((p) => ({
        key,
        value: Number.isFinite(p.value) ? p.value : p.value > 0 ? 'Infinity' : '-Infinity',
        timestamp: Date.parse(p.timestamp),
        step: p.step,
      }));
      expect(JSON.parse(h.json.toString())).toEqual(expected);
      expect(expected.at(-1)).toEqual({
        key,
        value: 4,
        timestamp: Date.parse('2026-03-04T05:06:07.089Z'),
        step: 99,
      });
      expect(expected.slice(0, 10).map((p) => p.value)).toEqual([
        ...values.slice(0, 7),
        'Infinity',
        '-Infinity',
        values[9],
      ]);
      // a run id prefix works as everywhere else; an unknown metric is an empty list
      expect(
        JSON.parse((await store.metricHistoryJson(run.id.slice(0, 8), 'other')).json.toString()),
      ).toHaveLength(1);
      expect(await store.metricHistoryJson(run.id, 'none')).toEqual({
        json: Buffer.from('[]'),
        count: 0,
        more: false,
      });
      await expect(store.metricHistoryJson('f'.repeat(32), key)).rejects.toMatchObject({
        code: 'KEEL_E_NOT_FOUND',
      });
    });

    it('pages by offset and limit, saying whether more points follow', async () => {
      const run = await store.createRun({ experiment: 'json' });
      await store.logMetricBatch(
        run.id,
        Array.from({ length: 5 }, (_, i) => ({ key: 'm', value: i, step: i })),
      );
      const steps = async (offset: number, limit?: number) => {
        const h = await store.metricHistoryJson(run.id, 'm', { offset, limit });
        return {
          steps: (JSON.parse(h.json.toString()) as { step: number }[]).map((p) => p.step),
          more: h.more,
        };
      };
      expect(await steps(0, 2)).toEqual({ steps: [0, 1], more: true });
      expect(await steps(2, 2)).toEqual({ steps: [2, 3], more: true });
      expect(await steps(4, 2)).toEqual({ steps: [4], more: false });
      expect(await steps(3, 2)).toEqual({ steps: [3, 4], more: false });
      expect(await steps(1)).toEqual({ steps: [1, 2, 3, 4], more: false });
      expect(await steps(9, 2)).toEqual({ steps: [], more: false });
    });

    it('refuses timestamps that are neither ms since the epoch nor ISO times, writing nothing', async () => {
      const run = await store.createRun({ experiment: 'json' });
      for (const timestamp of ['yesterday', 1.5, 1e17, Number.NaN])
        await expect(
          store.logMetricBatch(run.id, [
            { key: 'ok', value: 1 },
            { key: 'm', value: 1, timestamp },
          ]),
        ).rejects.toMatchObject({ code: 'KEEL_E_INPUT', message: expect.stringMatching(/timestamp/) });
      expect((await store.getRun(run.id)).metrics).toEqual({});
      await store.logMetricBatch(run.id, [{ key: 'm', value: 1, timestamp: '2026-01-02T03:04:05+02:00' }]);
      expect((await store.metricHistory(run.id, 'm'))[0].timestamp).toBe('2026-01-02T01:04:05.000Z');
    });
  });
}
