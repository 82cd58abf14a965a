/**
 * Growing a forest's trees on several threads: the trees of a forest are independent, so each
 * thread (the caller and its workers, forest-worker.mjs) takes the next tree index from a shared
 * counter and grows that tree with a random stream of its own, seeded by the forest's seed and the
 * tree's index. A tree is therefore the same whichever thread grows it and however many threads
 * there are. A worker still starting simply takes no tree, and the caller waits (Atomics.wait)
 * only for trees a worker has already taken, as the scoring pool does (tree/pool.ts).
 *
 * Everything a worker reads is in SharedArrayBuffers (the bins and the labels); it sends each tree
 * back over a MessagePort with the in-bag rows of its bootstrap sample, as a bitmask, for the
 * out-of-bag score, which the caller sums in tree order.
 */
import { availableParallelism } from 'node:os';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import { KeelError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { type Tree, TreeBuilder, type TreeParams } from './tree/tree.js';

/** Below this many rows times trees a fit stays on the calling thread (a worker costs its start). */
export const PARALLEL_WORK = 2_000_000;

/** The random stream of tree t of a forest seeded with seed: independent of thread and order. */
export function treeRng(seed: number, t: number): Rng {
  return new Rng((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(t + 1, 0x85ebca77)) >>> 0);
}

/** What every thread needs to grow any tree of the forest. */
export interface ForestTask {
  bins: Uint8Array;
  nFeatures: number;
  edges: Float64Array[];
  y: Float64Array;
  params: TreeParams;
  seed: number;
  nEstimators: number;
  bootstrap: boolean;
  /** [0]: the next tree index to take; [1]: trees finished by workers; [2]: a worker failed. */
  control: Int32Array;
}

export interface GrownTree {
  t: number;
  tree: Tree;
  /** Bit i set when row i is in the tree's bootstrap sample (null without bootstrap). */
  inBag: Uint8Array | null;
  /** Whether a worker thread grew it (the caller's done sees this; for tests and diagnostics). */
  byWorker?: boolean;
}

/** Grow trees taken from task.control[0] until none is left; `done` receives each one. */
export function growTaken(task: ForestTask, done: (g: GrownTree) => void): void {
  const n = task.y.length;
  const builder = new TreeBuilder(task.bins, task.nFeatures, task.edges, task.params);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const rows = new Int32Array(n);
  for (;;) {
    const t = Atomics.add(task.control, 0, 1);
    if (t >= task.nEstimators) return;
    const rng = treeRng(task.seed, t);
    builder.resetFeatureOrder();
    let inBag: Uint8Array | null = null;
    if (task.bootstrap) {
      hess.fill(0);
      for (let i = 0; i < n; i++) hess[rng.int(n)] += 1;
      inBag = new Uint8Array((n + 7) >>> 3);
    } else hess.fill(1);
    let m = 0;
    for (let i = 0; i < n; i++) {
      grad[i] = -task.y[i] * hess[i];
      if (hess[i] > 0) {
        rows[m++] = i;
        if (inBag) inBag[i >>> 3] |= 1 << (i & 7);
      }
    }
    done({ t, tree: builder.grow(rows.subarray(0, m), grad, hess, rng), inBag });
  }
}

/** How many threads a forest of nEstimators trees on n rows uses, for nJobs (-1: the machine's cores). */
export function forestThreads(nJobs: number, n: number, nEstimators: number): number {
  if (nJobs > 0) return Math.max(1, Math.min(nJobs, nEstimators));
  // inside a worker (a model-selection trial, say) the cores are already taken
  if (!isMainThread || n * nEstimators < PARALLEL_WORK) return 1;
  return Math.max(1, Math.min(availableParallelism(), nEstimators));
}

/**
 * Grow the forest's trees on `threads` threads (the caller and threads - 1 workers); `done` is
 * called on the calling thread for every tree, in no particular order. `progress` receives the
 * number of trees finished, from the calling thread, as trees finish there.
 */
export function growForestTrees(
  task: Omit<ForestTask, 'control'>,
  threads: number,
  done: (g: GrownTree) => void,
  progress?: (finished: number) => void,
): void {
  const control = new Int32Array(new SharedArrayBuffer(12));
  if (threads <= 1) {
    let finished = 0;
    growTaken({ ...task, control }, (g) => {
      done(g);
      progress?.(++finished);
    });
    return;
  }
  const bins = shared(task.bins);
  const y = shared(task.y);
  const shareable = { ...task, bins, y, control };
  const workers: { worker: Worker; port: MessagePort }[] = [];
  for (let k = 1; k < threads; k++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./forest-worker.mjs', import.meta.url), {
      workerData: { task: shareable, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    // a failure to start is not an error: the worker then takes no tree
    worker.on('error', () => {});
    workers.push({ worker, port: port1 });
  }
  let finished = 0;
  let mine = 0;
  try {
    growTaken(shareable, (g) => {
      done(g);
      mine++;
      progress?.(mine + Atomics.load(control, 1));
    });
    // the trees taken: nEstimators, plus one overshoot per thread that found none left
    const taken = Math.min(Atomics.load(control, 0), task.nEstimators);
    const theirs = taken - mine;
    for (;;) {
      finished = Atomics.load(control, 1);
      if (Atomics.load(control, 2) !== 0 || finished >= theirs) break;
      Atomics.wait(control, 1, finished, 1000);
    }
    let received = 0;
    for (const w of workers)
      for (let m = receiveMessageOnPort(w.port); m; m = receiveMessageOnPort(w.port)) {
        const msg = m.message as GrownTree | { error: string };
        if ('error' in msg)
          throw new KeelError('KEEL_E_INTERNAL', `a random-forest worker failed: ${msg.error}`);
        done({ ...msg, byWorker: true });
        received++;
      }
    if (received !== theirs)
      throw new KeelError(
        'KEEL_E_INTERNAL',
        `random forest: ${theirs} trees were grown on worker threads but ${received} arrived`,
      );
    progress?.(mine + received);
  } finally {
    for (const w of workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}

function shared<T extends Uint8Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const s = new Ctor(new SharedArrayBuffer(a.byteLength));
  s.set(a as never);
  return s;
}

/** The worker's side: grow trees until none is left, each sent back over the port. */
export function serveForest(data: { task: ForestTask; port: MessagePort }): void {
  const { task, port } = data;
  try {
    growTaken(task, (g) => {
      port.postMessage(g);
      Atomics.add(task.control, 1, 1);
      Atomics.notify(task.control, 1);
    });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
    Atomics.store(task.control, 2, 1);
    Atomics.notify(task.control, 1);
  }
  port.close();
}
