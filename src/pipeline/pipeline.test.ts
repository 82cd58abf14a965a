import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeelError } from '../core/errors.js';
import { type ArtifactStore, openArtifactStore, openStore, type TrackingStore } from '../track/index.js';
import { applyParamOverrides, definePipeline, isPipeline, step } from './define.js';
import { type PipelineEvent, runPipeline } from './executor.js';

let store: TrackingStore;
let artifacts: ArtifactStore;
beforeEach(async () => {
  store = await openStore(':memory:');
  artifacts = openArtifactStore(mkdtempSync(join(tmpdir(), 'keel-pipe-')));
});
afterEach(async () => {
  await store.close();
});

describe('definePipeline', () => {
  it('derives a topological order from step inputs and includes every dependency', () => {
    const p = definePipeline({ name: 'p', params: { n: 2 } }, (s) => {
      const a = s('a', (_, ctx) => ctx.params.n);
      const b = s('b', { a }, ({ a }) => a + 1);
      const c = s('c', { a }, ({ a }) => a * 10);
      const d = s('d', { b, c }, ({ b, c }) => b + c);
      return d;
    });
    expect(isPipeline(p)).toBe(true);
    expect(p.steps.map((x) => x.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(p.experiment).toBe('p');
  });

  it('rejects bad names, duplicate step names and non-steps', () => {
    expect(() => definePipeline({ name: '9x' }, (s) => s('a', () => 1))).toThrow(/pipeline name "9x"/);
    expect(() => step('bad name', () => 1)).toThrow(/step name "bad name"/);
    expect(() => step('x', { a: 1 as never }, () => 1)).toThrow(/input "a" is not a step/);
    expect(() =>
      definePipeline({ name: 'p' }, (s) => {
        const a1 = s('a', () => 1);
        const a2 = s('a', () => 2);
        return [a1, a2];
      }),
    ).toThrow(/two different steps are named "a"/);
    expect(() => definePipeline({ name: 'p' }, () => [])).toThrow(/has no steps/);
  });

  it('overrides params keeping their types and rejects unknown ones', () => {
    const d = { rows: 10, name: 'x', fast: false };
    expect(applyParamOverrides(d, { rows: '20', fast: 'true', name: 'y' })).toEqual({
      rows: 20,
      name: 'y',
      fast: true,
    });
    expect(() => applyParamOverrides(d, { rows: 'many' })).toThrow(/expects a number/);
    expect(() => applyParamOverrides(d, { fast: 'yes' })).toThrow(/expects true or false/);
    expect(() => applyParamOverrides(d, { nope: '1' })).toThrow(
      /unknown parameter "nope"; this pipeline takes: rows, name, fast/,
    );
  });
});

describe('runPipeline', () => {
  it('runs steps, passes outputs, runs independent steps concurrently and tracks the run', async () => {
    const order: string[] = [];
    const p = definePipeline({ name: 'demo', params: { base: 1 } }, (s) => {
      const a = s('a', async (_, ctx) => {
        await ctx.run.logMetrics({ seen: ctx.params.base });
        return ctx.params.base;
      });
      const slow = s('slow', { a }, async ({ a }) => {
        order.push('slow-start');
        await new Promise((r) => setTimeout(r, 30));
        order.push('slow-end');
        return a + 1;
      });
      const fast = s('fast', { a }, async ({ a }) => {
        order.push('fast');
        return a + 2;
      });
      const art = s('art', { slow, fast }, async ({ slow, fast }, ctx) => {
        ctx.progress('writing');
        await ctx.run.logArtifact('out.txt', `${slow},${fast}`);
        return slow + fast;
      });
      return art;
    });
    const events: PipelineEvent[] = [];
    const r = await runPipeline(p, {
      store,
      artifacts,
      paramOverrides: { base: '5' },
      onEvent: (e) => events.push(e),
    });
    expect(r.status).toBe('FINISHED');
    expect(r.outputs).toEqual({ a: 5, slow: 6, fast: 7, art: 13 });
    expect(order).toEqual(['slow-start', 'fast', 'slow-end']);
    expect(events.map((e) => e.type)).toContain('step-progress');
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'FINISHED' });
    const run = await store.getRun(r.runId);
    expect(run.status).toBe('FINISHED');
    expect(run.params.base).toBe('5');
    expect(run.metrics.seen).toBe(5);
    expect(run.metrics['step.art.seconds']).toBeGreaterThanOrEqual(0);
    expect(run.tags['keel.pipeline']).toBe('demo');
    expect(run.artifacts.map((a) => a.name)).toEqual(['out.txt']);
    expect((await artifacts.get(run.artifacts[0])).toString()).toBe('6,7');
  });

  it('records a failing step: FAILED run with the step named in the error, later steps not run', async () => {
    let ranAfter = false;
    const p = definePipeline({ name: 'boom' }, (s) => {
      const a = s('load', () => {
        throw new KeelError('KEEL_E_FILE_NOT_FOUND', 'data file not found: x.csv', { file: 'x.csv' });
      });
      const b = s('after', { a }, () => {
        ranAfter = true;
      });
      return b;
    });
    const r = await runPipeline(p, { store, artifacts });
    expect(r.status).toBe('FAILED');
    expect(r.error?.code).toBe('KEEL_E_FILE_NOT_FOUND');
    expect(r.error?.where.step).toBe('load');
    expect(ranAfter).toBe(false);
    const run = await store.getRun(r.runId);
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('data file not found: x.csv');
    expect(run.error).toContain('step "load"');
  });

  it('retries a flaky step and times out a slow one', async () => {
    let tries = 0;
    const flaky = definePipeline({ name: 'flaky' }, (s) =>
      s(
        'f',
        () => {
          tries++;
          if (tries < 3) throw new Error('transient');
          return 'ok';
        },
        { retries: 2 },
      ),
    );
    const r = await runPipeline(flaky, { store, artifacts });
    expect(r.status).toBe('FINISHED');
    expect(tries).toBe(3);

    const slow = definePipeline({ name: 'slow' }, (s) =>
      s('wait', () => new Promise((res) => setTimeout(res, 500)), { timeoutMs: 20 }),
    );
    const r2 = await runPipeline(slow, { store, artifacts });
    expect(r2.status).toBe('FAILED');
    expect(r2.error?.message).toMatch(/timed out after 20 ms/);
  });

  it('rejects bad param overrides before creating a run', async () => {
    const p = definePipeline({ name: 'params', params: { n: 1 } }, (s) => s('a', () => 1));
    await expect(runPipeline(p, { store, artifacts, paramOverrides: { n: 'x' } })).rejects.toThrow(
      /expects a number/,
    );
    expect(await store.listRuns()).toEqual([]);
  });
});
