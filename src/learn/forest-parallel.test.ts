import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor } from './forest.js';
import { forestThreads, PARALLEL_WORK } from './forest-grow.js';
import type { Matrix } from './types.js';

function problem(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const F = 6;
  const x = new Float64Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) x[i * F + j] = i % 17 === j ? Number.NaN : rng.normal();
    const s = x[i * F] + 0.8 * (x[i * F + 1] > 0 ? 1 : -1) - 0.5 * x[i * F + 2] ** 2;
    y[i] = rng.next() < 1 / (1 + Math.exp(-2 * s)) ? 1 : 0;
  }
  return { X: { data: x, nRows: n, nCols: F, names: ['a', 'b', 'c', 'd', 'e', 'f'] }, y };
}

const json = (m: { toJSON(): unknown }) => {
  const d = m.toJSON() as { params: Record<string, unknown>; state: unknown };
  return JSON.stringify({ ...d, params: { ...d.params, nJobs: null } });
};

describe('random forests on several threads (trees of a forest grown in worker threads)', () => {
  const { X, y } = problem(4000, 7);

  it('grow the same trees, out-of-bag score and progress on 1, 2 and 3 threads', () => {
    for (const make of [
      (nJobs: number) => new RandomForestClassifier({ nEstimators: 24, maxDepth: 14, seed: 5, nJobs }),
      (nJobs: number) => new ExtraTreesClassifier({ nEstimators: 24, maxDepth: 10, seed: 6, nJobs }),
      (nJobs: number) => new RandomForestRegressor({ nEstimators: 24, seed: 8, nJobs }),
    ]) {
      const seen: string[][] = [];
      const docs = [1, 2, 3].map((nJobs) => {
        const progress: string[] = [];
        const m = make(nJobs).fit(X, y, { onProgress: (_, msg) => progress.push(msg ?? '') });
        seen.push(progress);
        return { doc: json(m), oob: m.oobScore_ };
      });
      expect(docs[1]).toEqual(docs[0]);
      expect(docs[2]).toEqual(docs[0]);
      for (const p of seen) expect(p.at(-1)).toBe('tree 24/24');
    }
  }, 60_000);

  it('give each tree its own random stream: trees differ, seeds matter', () => {
    const a = new RandomForestClassifier({ nEstimators: 4, seed: 1, nJobs: 2 }).fit(X, y);
    const b = new RandomForestClassifier({ nEstimators: 4, seed: 2, nJobs: 2 }).fit(X, y);
    const trees = (a.toJSON() as { state: { trees: unknown[] } }).state.trees.map((t) => JSON.stringify(t));
    expect(new Set(trees).size).toBe(4);
    expect(json(a)).not.toEqual(json(b));
  }, 60_000);

  it('use every core only for large forests on the main thread, and never more threads than trees', () => {
    expect(forestThreads(3, 10, 100)).toBe(3);
    expect(forestThreads(8, 10, 2)).toBe(2);
    expect(forestThreads(-1, 100, 10)).toBe(1);
    expect(forestThreads(-1, PARALLEL_WORK, 1)).toBe(1);
    expect(forestThreads(-1, PARALLEL_WORK, 2)).toBeGreaterThanOrEqual(1);
  });

  it('read documents written before nJobs existed', () => {
    const m = new RandomForestClassifier({ nEstimators: 3, seed: 1 }).fit(X, y);
    const d = m.toJSON() as { params: Record<string, unknown> };
    delete d.params.nJobs;
    const back = RandomForestClassifier.fromJSON(JSON.parse(JSON.stringify(d)));
    expect(back.params.nJobs).toBe(-1);
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(m.predictProba(X)));
  });
});

describe('growForestTrees', () => {
  it('takes trees grown by a worker while the calling thread is busy, and gives every tree once', async () => {
    const { TreeBuilder } = await import('./tree/tree.js');
    const { binned } = await import('./tree/binning.js');
    const { growForestTrees } = await import('./forest-grow.js');
    const { X, y } = problem(2000, 3);
    const { mapper, bins } = binned(X, 254);
    const task = {
      bins,
      nFeatures: X.nCols,
      edges: mapper.edges,
      y,
      params: {
        maxDepth: 8,
        minChildSamples: 1,
        minChildWeight: 0,
        lambda: 0,
        minSplitGain: 1e-12,
        featureFraction: 0.5,
        leafWhenPure: true,
      },
      seed: 3,
      nEstimators: 12,
      bootstrap: true,
    };
    const grown = (threads: number, slowCaller: boolean) => {
      const out: { t: number; json: string; byWorker: boolean }[] = [];
      const pause = new Int32Array(new SharedArrayBuffer(4));
      growForestTrees(task, threads, (g) => {
        out.push({ t: g.t, json: JSON.stringify([g.tree, g.inBag]), byWorker: g.byWorker === true });
        // the calling thread sleeps after each of its trees, so the worker surely takes some
        if (slowCaller && !g.byWorker) Atomics.wait(pause, 0, 0, 400);
      });
      return out.sort((a, b) => a.t - b.t);
    };
    const one = grown(1, false);
    const two = grown(2, true);
    expect(two.map((g) => g.t)).toEqual([...Array(12).keys()]);
    expect(two.some((g) => g.byWorker)).toBe(true);
    expect(two.some((g) => !g.byWorker)).toBe(true);
    expect(two.map((g) => g.json)).toEqual(one.map((g) => g.json));
  }, 60_000);
});
