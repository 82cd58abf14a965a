/**
 * Worker threads that score large batches on complete-layout forests (score-worker.mjs). A job's
 * rows are cut into blocks that threads take from a shared counter (score-kernel.mjs), so a
 * worker still starting simply takes none and nothing ever waits on it. Two ways in:
 *
 * - `addSync`: the calling thread scores blocks too, then waits (Atomics.wait) only for blocks a
 *   worker has already taken; for synchronous APIs (predictProba).
 * - `add`: the workers score, the caller awaits; for servers, whose event loop meanwhile reads
 *   the next request.
 *
 * The forest's arrays, the rows and the output live in SharedArrayBuffers (no copies of the
 * forest; rows and output are copied in and out when the caller's are not shared). Workers are
 * started on first use, stay warm, and never keep the process alive. Sums are exactly those of
 * one thread: every row is scored by one thread with the same code.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KeelError } from '../../core/errors.js';
import { type KernelForest, scoreBlocks } from './score-kernel.mjs';

/** Rows per block taken from the counter: small enough to balance, large enough to amortize. */
const BLOCK_ROWS = 256;

/** A Float64Array over shared memory with data's values (data itself when already shared). */
export function sharedCopy(data: Float64Array): Float64Array {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const s = new Float64Array(new SharedArrayBuffer(data.length * 8));
  s.set(data);
  return s;
}

/** Shared arrays given back after a job, by length, for the next job of that size (a few kept). */
const spare = new Map<number, Float64Array[]>();
let spareCount = 0;

/**
 * A Float64Array of length n over shared memory, reused from an earlier job when one of that
 * length was given back (allocating shared memory costs more than filling it). Its contents are
 * whatever it held: the caller overwrites them.
 */
export function takeShared(n: number): Float64Array {
  const free = spare.get(n);
  if (free && free.length > 0) {
    spareCount--;
    return free.pop()!;
  }
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

/** Give back an array from takeShared once nothing reads it any more. */
export function giveShared(a: Float64Array): void {
  if (spareCount >= 8 || !(a.buffer instanceof SharedArrayBuffer)) return;
  let free = spare.get(a.length);
  if (!free) {
    // lengths change with batch sizes: keep the spares of a few lengths only
    if (spare.size >= 4) {
      const [k, v] = spare.entries().next().value!;
      spareCount -= v.length;
      spare.delete(k);
    }
    free = [];
    spare.set(a.length, free);
  }
  free.push(a);
  spareCount++;
}

/** Whether every array the kernel reads is shared (flatten allocates them so). */
export function isShared(f: KernelForest): boolean {
  return [f.depth, f.nodeOffset, f.leafOffset, f.threshold, f.word, f.leaf].every(
    (a) => a.buffer instanceof SharedArrayBuffer,
  );
}

export class ScoringPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private broken: Error | null = null;

  /** size: worker threads (at least 1). */
  constructor(readonly size: number) {}

  /** Workers able to take jobs (0 after a worker failed: callers then score on their own thread). */
  get available(): number {
    return this.broken ? 0 : this.size;
  }

  /** Start the workers ahead of the first job (they start on first use otherwise). */
  warm(): void {
    this.ensureStarted();
  }

  private ensureStarted(): void {
    if (this.workers.length > 0 || this.broken) return;
    for (let i = 0; i < this.size; i++) {
      // empty execArgv: the worker is plain JavaScript and needs no loader (tsx, the test runner's)
      const w = new Worker(new URL('./score-worker.mjs', import.meta.url), { execArgv: [] });
      w.on('message', (id: number) => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        if (this.pending.size === 0) for (const x of this.workers) x.unref();
        p.resolve();
      });
      const fail = (e: unknown) => {
        this.broken ??= e instanceof Error ? e : new Error(`scoring worker exited (${String(e)})`);
        for (const p of this.pending.values())
          p.reject(new KeelError('KEEL_E_INTERNAL', `a scoring worker failed: ${this.broken.message}`));
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(code));
      w.unref();
      this.workers.push(w);
    }
  }

  private post(
    f: KernelForest,
    data: Float64Array,
    nRows: number,
    nCols: number,
    out: Float64Array,
    ctl: Int32Array,
    reply: boolean,
    workers: number,
  ): number {
    this.ensureStarted();
    const id = this.nextId++;
    const forest = {
      depth: f.depth,
      nodeOffset: f.nodeOffset,
      leafOffset: f.leafOffset,
      threshold: f.threshold,
      word: f.word,
      leaf: f.leaf,
      missingAsInfinity: f.missingAsInfinity,
      id: f.id,
    };
    const job = { id, forest, data, nRows, nCols, out, ctl, block: BLOCK_ROWS, reply };
    for (let i = 0; i < Math.min(workers, this.workers.length); i++) this.workers[i].postMessage(job);
    return id;
  }

  /**
   * out[i] += the forest's sum for each row of data, the calling thread scoring alongside up to
   * `helpers` workers. f's arrays must be shared (see isShared).
   */
  addSync(
    f: KernelForest,
    data: Float64Array,
    nRows: number,
    nCols: number,
    out: Float64Array,
    helpers = this.size,
  ): void {
    const d = sharedCopy(data);
    const o = sharedCopy(out);
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const nBlocks = Math.ceil(nRows / BLOCK_ROWS);
    if (!this.broken) this.post(f, d, nRows, nCols, o, ctl, false, helpers);
    scoreBlocks(f, d, nRows, nCols, o, ctl, BLOCK_ROWS);
    // only blocks a running worker took remain: it finishes them without needing this thread
    for (let done = Atomics.load(ctl, 1); done < nBlocks; done = Atomics.load(ctl, 1))
      Atomics.wait(ctl, 1, done, 50);
    if (o !== out) out.set(o);
  }

  /** out[i] += the forest's sum for each row of data, on the workers; resolves when done. */
  async add(
    f: KernelForest,
    data: Float64Array,
    nRows: number,
    nCols: number,
    out: Float64Array,
  ): Promise<void> {
    if (this.broken)
      throw new KeelError('KEEL_E_INTERNAL', `a scoring worker failed: ${this.broken.message}`);
    const d = sharedCopy(data);
    const o = sharedCopy(out);
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    await new Promise<void>((resolve, reject) => {
      const id = this.post(f, d, nRows, nCols, o, ctl, true, this.size);
      this.pending.set(id, { resolve, reject });
      // a job in flight keeps the process alive until its answer
      for (const w of this.workers) w.ref();
    });
    if (o !== out) out.set(o);
  }

  /** Stop the workers (tests; the process pool's workers never keep a process alive anyway). */
  close(): void {
    this.broken ??= new Error('the scoring pool was closed');
    for (const w of this.workers) {
      w.removeAllListeners('exit');
      void w.terminate();
    }
  }
}

let shared: ScoringPool | null = null;

/**
 * The process's scoring pool: one worker per core (at least one, at most 4). A synchronous call
 * uses as many as its caller asks beside itself; awaited jobs go to all, so every core can score
 * while the caller's event loop waits on I/O.
 */
export function scoringPool(): ScoringPool {
  shared ??= new ScoringPool(Math.max(1, Math.min(availableParallelism(), 4)));
  return shared;
}
