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

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 2));
}

// control array slots (shared with hist-worker.mjs)
const SEQ = 0; // request sequence number (main -> worker)
const START = 1;
const END = 2;
const DONE = 3; // last finished request (worker -> main)
const QUIT = 4;
const OP = 5; // 0 histogram, 1 partition, 2 partition and histogram of one side
const FEATURE = 6;
const SPLIT = 7; // bin | missingLeft << 8 | histogram of the left side << 9
const LEFT_COUNT = 8;
const WORKER_SLEEPS = 9;
const MAIN_SLEEPS = 10;
const FAILED = 11; // set by the worker when it throws
/** Polls of the DONE slot before sleeping (~100 us; the worker polls SEQ ~200 us). */
const SPIN = 20_000;

export class HistogramHelper {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  readonly hist: Float64Array;
  private seq = 0;

  constructor(arrays: SharedTrainingArrays, nFeatures: number, histSize: number) {
    const control = new SharedArrayBuffer(16 * 4);
    const hist = new SharedArrayBuffer(histSize * 8);
    this.control = new Int32Array(control);
    this.hist = new Float64Array(hist);
    this.worker = new Worker(new URL('./hist-worker.mjs', import.meta.url), {
      workerData: {
        rowBins: arrays.rowBins.buffer,
        gh: arrays.gh.buffer,
        rows: arrays.rows.buffer,
        cols: arrays.cols.buffer,
        spill: arrays.spill.buffer,
        nRows: arrays.rows.length,
        hist,
        control,
        nFeatures,
      },
    });
    this.worker.unref();
  }

  /** Ask the worker to sum rows[start:end]; call wait() for the result in `hist`. */
  start(start: number, end: number): void {
    Atomics.store(this.control, OP, 0);
    this.go(start, end);
  }

  /**
   * Ask the worker to partition rows[start:end] stably by feature f (left: bin <= `bin`, missing
   * left when `missingLeft`): left rows stay in place from `start`, right rows go to
   * spill[start:]; after wait(), `leftCount()` says how many went left. With `histSide` 'left' or
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
