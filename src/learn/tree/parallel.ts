/**
 * A second thread for histogram building and partitioning: the rows of a large node are split in
 * two, a worker thread handles one half while the calling thread handles the other, then the
 * halves are joined. Data lives in SharedArrayBuffers (no copies). The handshake is a sequence
 * number in a small control array: each side spins briefly on it before sleeping in Atomics.wait,
 * and the other side calls Atomics.notify only when the waiter has said it sleeps, so the usual
 * request (answered within microseconds) costs no system call on either side.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Matrix } from '../types.js';
import { edgeTasks } from './bin-kernel.mjs';
import { binLimit, sampleStep } from './binning.js';
import { addLeaves, addRoutes, binaryGradients as kernelGradients } from './hist-kernel.mjs';
import { CFG_SIZE, SPLIT_TASK } from './split-kernel.mjs';

export interface SharedTrainingArrays {
  rows: Int32Array;
  /** The bins column-major (filled by TreeBuilder) and a row-index scratch for partitions. */
  cols: Uint8Array;
  spill: Int32Array;
  /** The bins row-major, each row padded to whole 32-bit words (filled by TreeBuilder). */
  rowBins: Uint32Array;
  /** Gradients and hessians interleaved (filled by TreeBuilder from grad and hess). */
  gh: Float64Array;
}

/** Typed arrays over SharedArrayBuffers, so a worker thread can read them without copying. */
export function sharedArrays(nRows: number, nFeatures: number): SharedTrainingArrays {
  return {
    rows: new Int32Array(new SharedArrayBuffer(nRows * 4)),
    cols: new Uint8Array(new SharedArrayBuffer(nRows * nFeatures)),
    spill: new Int32Array(new SharedArrayBuffer(nRows * 4)),
    rowBins: new Uint32Array(new SharedArrayBuffer(nRows * ((nFeatures + 3) >> 2) * 4)),
    gh: new Float64Array(new SharedArrayBuffer(nRows * 16)),
  };
}

/**
 * The binary objective's state in shared memory, so both threads compute the gradients and
 * hessians of a tree (op 4): margin, labels, optional row weights (null: wPos for positives, 1
 * for negatives), and grad/hess, which the worker fills for its rows as the calling thread does.
 */
export interface SharedBinary {
  margin: Float64Array;
  y: Float64Array;
  weights: Float64Array | null;
  wPos: number;
  grad: Float64Array;
  hess: Float64Array;
}

export function sharedBinary(
  n: number,
  y: Float64Array,
  weights: Float64Array | null,
  wPos: number,
): SharedBinary {
  const f64 = (m: number) => new Float64Array(new SharedArrayBuffer(m * 8));
  const sy = f64(n);
  sy.set(y);
  let sw: Float64Array | null = null;
  if (weights) {
    sw = f64(n);
    sw.set(weights);
  }
  return { margin: f64(n), y: sy, weights: sw, wPos, grad: f64(n), hess: f64(n) };
}

/**
 * Binary log-loss gradients and hessians of rows [start, end) into grad, hess and the builder's
 * interleaved gh: hist-kernel.mjs's loop, which the worker runs too, so either thread gives the
 * same bits.
 */
export function binaryGradients(b: SharedBinary, gh: Float64Array, start: number, end: number): void {
  kernelGradients(b.margin, b.y, b.weights, b.wPos, b.grad, b.hess, gh, start, end);
}

/**
 * The rows fitBins samples for the bin edges, column by column (stride doubles per feature, cnt
 * values each), and the edges found (256 doubles per feature, nEdges each), in shared memory so
 * both threads sort features (HistogramHelper.fitEdges).
 */
export interface SharedBinSample {
  sample: Float64Array;
  cnt: Int32Array;
  stride: number;
  edges: Float64Array;
  nEdges: Int32Array;
}

export function sharedBinSample(nRows: number, nFeatures: number): SharedBinSample {
  const stride = Math.ceil(nRows / sampleStep(nRows));
  return {
    sample: new Float64Array(new SharedArrayBuffer(nFeatures * stride * 8)),
    cnt: new Int32Array(new SharedArrayBuffer(nFeatures * 4)),
    stride,
    edges: new Float64Array(new SharedArrayBuffer(nFeatures * 256 * 8)),
    nEdges: new Int32Array(new SharedArrayBuffer(nFeatures * 4)),
  };
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 2));
}

// control array slots (shared with hist-worker.mjs)
const SEQ = 0; // request sequence number (main -> worker)
const START = 1;
const END = 2;
const DONE = 3; // last finished request (worker -> main)
const QUIT = 4;
// 0 histogram, 1 partition, 2 partition and histogram of one side, 3 tasks, 4 gradients, 5 split
// search, 6 leaf values into margins, 7 bin edges, 8 a level's halves and tasks, 9 gradients then
// histogram of the same rows
const OP = 5;
const FEATURE = 6; // op 1/2: the feature; op 6: the leaves; op 0: 1 = no counts
const SPLIT = 7; // bin | missingLeft << 8 | histogram of the left side << 9
const LEFT_COUNT = 8;
const WORKER_SLEEPS = 9;
const MAIN_SLEEPS = 10;
const FAILED = 11; // set by the worker when it throws
const NEXT = 12; // ops 3 and 5: the next task to take (both threads take tasks with Atomics.add)
/** Ints per task of op 3: start, end, feature, packed split (as SPLIT), histogram slot, left count (out). */
export const TASK_INTS = 6;
/** Most tasks in one request, and the byte budget of the histogram slots they fill. */
const MAX_TASKS = 1024;
const SLAB_BYTES = 16 * 2 ** 20;
/** At most this much address space for the histogram slots (pages are only used once touched). */
const SLAB_MAX_BYTES = 512 * 2 ** 20;
/** Most node halves in one op 8 request (each gets one of the worker's histograms). */
const MAX_HALVES = 4;
/** Most leaves of a tree whose values op 6 adds (leaves table: start, end, value each). */
const MAX_LEAVES = 4096;
/** Polls of the DONE slot before sleeping (~100 us; the worker polls SEQ ~200 us). */
const SPIN = 20_000;

export class HistogramHelper {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  readonly hist: Float64Array;
  /**
   * Op 8's halves: TASK_INTS ints each (start of the half, end, feature, packed split as op 3's
   * tasks, unused, left count out), and the worker's histogram of each half (hist is the first).
   */
  readonly halves: Int32Array;
  readonly halfHists: Float64Array[];
  readonly maxHalves = MAX_HALVES;
  /** Op 3's task table (TASK_INTS per task) and its histogram slots (histSize doubles each). */
  readonly tasks: Int32Array;
  readonly slab: Float64Array;
  readonly maxTasks = MAX_TASKS;
  readonly slots: number;
  /**
   * Op 5's split search: its task table (SPLIT_TASK doubles per task, see split-kernel.mjs's
   * splitTask: histograms are slab slots), 256 mask bytes per task, and what every task of a
   * request shares, written by the caller before each request: the search parameters, the
   * feature order and per feature its value bins and whether it is categorical.
   */
  readonly splitTasks: Float64Array;
  readonly masks: Uint8Array;
  readonly splitCfg: Float64Array;
  readonly order: Int32Array;
  readonly nb: Int32Array;
  readonly isCat: Uint8Array;
  /** Op 6's leaves: start and end positions in the rows array and value, per leaf. */
  private readonly leaves: Float64Array;
  /** Op 6's routes (TreeBuilder.leafRoutes with the two values), and the bins they read. */
  private readonly routes: Float64Array;
  private readonly cols: Uint8Array;
  private seq = 0;

  private readonly rows: Int32Array;

  constructor(
    arrays: SharedTrainingArrays,
    nFeatures: number,
    histSize: number,
    private readonly binary: SharedBinary | null = null,
    /** Histogram slots wanted in the slab (the tree builder keeps its node histograms there). */
    histSlots = 0,
    private binSample: SharedBinSample | null = null,
  ) {
    this.rows = arrays.rows;
    const control = new SharedArrayBuffer(16 * 4);
    const hist = new SharedArrayBuffer(MAX_HALVES * histSize * 8);
    this.control = new Int32Array(control);
    this.hist = new Float64Array(hist, 0, histSize);
    this.halfHists = Array.from(
      { length: MAX_HALVES },
      (_, h) => new Float64Array(hist, h * histSize * 8, histSize),
    );
    const halves = new SharedArrayBuffer(MAX_HALVES * TASK_INTS * 4);
    this.halves = new Int32Array(halves);
    const hb = histSize * 8;
    this.slots = Math.max(
      1,
      Math.min(MAX_TASKS, Math.floor(SLAB_MAX_BYTES / hb), Math.max(histSlots, Math.floor(SLAB_BYTES / hb))),
    );
    const sab = (bytes: number) => new SharedArrayBuffer(bytes);
    const splitTasks = sab(MAX_TASKS * SPLIT_TASK * 8);
    const masks = sab(MAX_TASKS * 256);
    const splitCfg = sab(CFG_SIZE * 8);
    const order = sab(nFeatures * 4);
    const nb = sab(nFeatures * 4);
    const isCat = sab(nFeatures);
    this.splitTasks = new Float64Array(splitTasks);
    this.masks = new Uint8Array(masks);
    this.splitCfg = new Float64Array(splitCfg);
    this.order = new Int32Array(order);
    this.nb = new Int32Array(nb);
    this.isCat = new Uint8Array(isCat);
    const leaves = sab(MAX_LEAVES * 3 * 8);
    this.leaves = new Float64Array(leaves);
    const routes = sab(MAX_LEAVES * 6 * 8);
    this.routes = new Float64Array(routes);
    this.cols = arrays.cols;
    const tasks = new SharedArrayBuffer(MAX_TASKS * TASK_INTS * 4);
    const slab = new SharedArrayBuffer(this.slots * histSize * 8);
    this.tasks = new Int32Array(tasks);
    this.slab = new Float64Array(slab);
    this.worker = new Worker(new URL('./hist-worker.mjs', import.meta.url), {
      // plain JavaScript: no loader (tsx, the test runner's), whose start-up in the worker took
      // ~200 ms of CPU while the fit bins the features (as pool.ts's scoring workers)
      execArgv: [],
      workerData: {
        rowBins: arrays.rowBins.buffer,
        gh: arrays.gh.buffer,
        rows: arrays.rows.buffer,
        cols: arrays.cols.buffer,
        spill: arrays.spill.buffer,
        nRows: arrays.rows.length,
        hist,
        halves: { table: halves, count: MAX_HALVES },
        control,
        nFeatures,
        tasks,
        slab,
        histSize,
        split: { tasks: splitTasks, masks, cfg: splitCfg, order, nb, isCat },
        leaves,
        routes,
        binSample: binSample && {
          sample: binSample.sample.buffer,
          cnt: binSample.cnt.buffer,
          stride: binSample.stride,
          edges: binSample.edges.buffer,
          nEdges: binSample.nEdges.buffer,
        },
        binary: binary && {
          margin: binary.margin.buffer,
          y: binary.y.buffer,
          weights: binary.weights?.buffer ?? null,
          wPos: binary.wPos,
          grad: binary.grad.buffer,
          hess: binary.hess.buffer,
        },
      },
    });
    this.worker.unref();
  }

  /**
   * Ask the worker to sum rows[start:end]; call wait() for the result in `hist`. Without
   * `counts`, only gradients and hessians are summed (the counts stay zero).
   */
  start(start: number, end: number, counts = true): void {
    Atomics.store(this.control, OP, 0);
    Atomics.store(this.control, FEATURE, counts ? 0 : 1);
    this.go(start, end);
  }

  /**
   * Op 9, for a root over every row in order (rows[i] = i): the worker computes the binary
   * gradients of rows [start, end) (see SharedBinary; this thread computes the others with
   * ownGradients), then sums rows[start:end] into `hist` as start() does; then wait(). False
   * (nothing asked) without a SharedBinary.
   */
  startGradientsHist(start: number, end: number, counts = true): boolean {
    if (!this.binary) return false;
    Atomics.store(this.control, OP, 9);
    Atomics.store(this.control, FEATURE, counts ? 0 : 1);
    this.go(start, end);
    return true;
  }

  /** The binary gradients of rows [start, end) on this thread, into grad, hess and gh. */
  ownGradients(gh: Float64Array, start: number, end: number): void {
    if (this.binary) binaryGradients(this.binary, gh, start, end);
  }

  /**
   * Ask the worker to partition rows[start:end] stably by feature f (left: bin <= `bin`, missing
   * left when `missingLeft`): left rows stay in place from `start`, then the right rows (through
   * spill[start:]); after wait(), `leftCount()` says how many went left. With `histSide` 'left' or
   * 'right' it also sums that side's rows into `hist` while partitioning.
   */
  startPartition(
    start: number,
    end: number,
    f: number,
    bin: number,
    missingLeft: boolean,
    histSide: 'left' | 'right' | null = null,
  ): void {
    Atomics.store(this.control, OP, histSide ? 2 : 1);
    Atomics.store(this.control, FEATURE, f);
    Atomics.store(this.control, SPLIT, bin | (missingLeft ? 256 : 0) | (histSide === 'left' ? 512 : 0));
    this.go(start, end);
  }

  /**
   * Op 3: tasks[0:count) (see TASK_INTS), each a whole node: partition rows[start:end] stably
   * (right rows through spill[start:]) and put them back as left then right, and with the
   * histogram flag (512 in the packed split, 1024 for the left side) sum that side's rows into
   * slab slot `slot`, zeroed first; the left count goes to the task's last int. Both threads take
   * tasks in order with takeTask() until it returns -1; then wait().
   */
  startTasks(count: number): void {
    Atomics.store(this.control, OP, 3);
    Atomics.store(this.control, NEXT, 0);
    this.go(0, count);
  }

  /**
   * Op 8: the worker partitions the second half of each of halves[0:nHalves) (see `halves`: as
   * startPartition, its histogram into halfHists[h], its left count to the half's int 5), then
   * takes op 3's tasks[0:count) as startTasks; the caller does the first halves, takes tasks with
   * takeTask() until it returns -1, then wait().
   */
  startLevel(nHalves: number, count: number): void {
    Atomics.store(this.control, OP, 8);
    Atomics.store(this.control, FEATURE, nHalves);
    Atomics.store(this.control, NEXT, 0);
    this.go(0, count);
  }

  /**
   * Op 5: split tasks[0:count) of splitTasks (split-kernel.mjs's splitTask over the slab), taken
   * by both threads with takeTask() until it returns -1; then wait().
   */
  startSplits(count: number): void {
    Atomics.store(this.control, OP, 5);
    Atomics.store(this.control, NEXT, 0);
    this.go(0, count);
  }

  /**
   * Op 4: the binary gradients of every row (see SharedBinary), the last half on the worker and
   * the first on this thread; false without a SharedBinary.
   */
  gradients(gh: Float64Array): boolean {
    const b = this.binary;
    if (!b) return false;
    const n = b.margin.length;
    const half = n >> 1;
    Atomics.store(this.control, OP, 4);
    this.go(half, n);
    binaryGradients(b, gh, 0, half);
    this.wait();
    return true;
  }

  /**
   * Op 6: a tree's leaf values (leafRanges: start, end, node triples over rows; value per node)
   * added to the shared margins of the rows at positions [0, m) of the rows array, the positions'
   * last half on the worker, the first on this thread, and so the leaves of leafRoutes (see
   * TreeBuilder.leafRoutes: start, end, feature, packed split, left node, right node). False
   * (nothing done) without a SharedBinary or with more leaves than the table holds.
   */
  addLeaves(
    leafRanges: Int32Array,
    value: Float64Array,
    m: number,
    leafRoutes: Int32Array = new Int32Array(0),
  ): boolean {
    const b = this.binary;
    const nLeaves = leafRanges.length / 3;
    const nRoutes = leafRoutes.length / 6;
    if (!b || nLeaves > MAX_LEAVES || nRoutes > MAX_LEAVES) return false;
    const L = this.leaves;
    for (let q = 0; q < nLeaves; q++) {
      L[3 * q] = leafRanges[3 * q];
      L[3 * q + 1] = leafRanges[3 * q + 1];
      L[3 * q + 2] = value[leafRanges[3 * q + 2]];
    }
    const RT = this.routes;
    for (let q = 0; q < 6 * nRoutes; q += 6) {
      for (let j = 0; j < 4; j++) RT[q + j] = leafRoutes[q + j];
      RT[q + 4] = value[leafRoutes[q + 4]];
      RT[q + 5] = value[leafRoutes[q + 5]];
    }
    const half = m >> 1;
    Atomics.store(this.control, OP, 6);
    Atomics.store(this.control, FEATURE, nLeaves);
    Atomics.store(this.control, SPLIT, nRoutes);
    this.go(half, m);
    addLeaves(L, nLeaves, this.rows, 0, half, b.margin);
    addRoutes(RT, nRoutes, this.rows, 0, half, b.margin, this.cols, this.rows.length, 1, 0);
    this.wait();
    return true;
  }

  /**
   * Op 7: fitBins's edges of X (which must be the matrix the SharedBinSample was sized for), the
   * features sorted by both threads (each feature's edges by bin-kernel.mjs's featureEdges on
   * one thread: exactly fitBins's edges); null without a SharedBinSample. The sample's memory is
   * let go afterwards.
   */
  fitEdges(X: Matrix, maxBins: number): Float64Array[] | null {
    const b = this.binSample;
    if (!b) return null;
    this.binSample = null;
    const { nRows, nCols: F, data } = X;
    const { sample, stride } = b;
    const step = sampleStep(nRows);
    // one pass over the sampled rows (fitBins reads them once per feature)
    const cnt = new Int32Array(F);
    for (let r = 0; r < nRows; r += step)
      for (let f = 0, o = r * F; f < F; f++) {
        const v = data[o + f];
        if (!Number.isNaN(v)) sample[f * stride + cnt[f]++] = v;
      }
    b.cnt.set(cnt);
    const limit = binLimit(maxBins);
    Atomics.store(this.control, OP, 7);
    Atomics.store(this.control, NEXT, 0);
    this.go(limit, F);
    edgeTasks(this.control, NEXT, F, sample, stride, b.cnt, limit, b.edges, b.nEdges);
    this.wait();
    return Array.from({ length: F }, (_, f) => b.edges.slice(f * 256, f * 256 + b.nEdges[f]));
  }

  /** The next task for this thread (ops 3 and 5), or -1 when all are taken. */
  takeTask(count: number): number {
    const i = Atomics.add(this.control, NEXT, 1);
    return i < count ? i : -1;
  }

  leftCount(): number {
    return Atomics.load(this.control, LEFT_COUNT);
  }

  private go(start: number, end: number): void {
    const c = this.control;
    Atomics.store(c, START, start);
    Atomics.store(c, END, end);
    this.seq = (this.seq + 1) | 0;
    Atomics.store(c, SEQ, this.seq);
    // the worker sets WORKER_SLEEPS before its Atomics.wait re-checks SEQ, so either it sees the
    // new SEQ or we see the flag (Atomics are sequentially consistent)
    if (Atomics.load(c, WORKER_SLEEPS) === 1) Atomics.notify(c, SEQ);
  }

  wait(): void {
    const c = this.control;
    const seq = this.seq;
    for (let i = 0; i < SPIN; i++) if (Atomics.load(c, DONE) === seq) return;
    Atomics.store(c, MAIN_SLEEPS, 1);
    for (let d = Atomics.load(c, DONE); d !== seq; d = Atomics.load(c, DONE)) {
      Atomics.wait(c, DONE, d, 100);
      if (Atomics.load(c, FAILED) === 1) throw new Error('the histogram worker thread failed');
    }
    Atomics.store(c, MAIN_SLEEPS, 0);
  }

  close(): void {
    Atomics.store(this.control, QUIT, 1);
    this.seq = (this.seq + 1) | 0;
    Atomics.store(this.control, SEQ, this.seq);
    Atomics.notify(this.control, SEQ);
    void this.worker.terminate();
  }
}
