/**
 * A second thread for histogram building: the rows of a large node are split in two, a worker
 * thread sums one half into its own buffer while the calling thread sums the other, then the
 * halves are added. Data lives in SharedArrayBuffers (no copies); the handshake is Atomics
 * wait/notify on a small control array.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface SharedTrainingArrays {
  bins: Uint8Array;
  grad: Float64Array;
  hess: Float64Array;
  rows: Int32Array;
  /** The bins column-major (filled by TreeBuilder) and a row-index scratch for partitions. */
  cols: Uint8Array;
  spill: Int32Array;
}

/** Typed arrays over SharedArrayBuffers, so a worker thread can read them without copying. */
export function sharedArrays(nRows: number, nFeatures: number): SharedTrainingArrays {
  return {
    bins: new Uint8Array(new SharedArrayBuffer(nRows * nFeatures)),
    grad: new Float64Array(new SharedArrayBuffer(nRows * 8)),
    hess: new Float64Array(new SharedArrayBuffer(nRows * 8)),
    rows: new Int32Array(new SharedArrayBuffer(nRows * 4)),
    cols: new Uint8Array(new SharedArrayBuffer(nRows * nFeatures)),
    spill: new Int32Array(new SharedArrayBuffer(nRows * 4)),
  };
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 2));
}

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
        bins: arrays.bins.buffer,
        grad: arrays.grad.buffer,
        hess: arrays.hess.buffer,
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
    Atomics.store(this.control, 5, 0);
    this.go(start, end);
  }

  /**
   * Ask the worker to partition rows[start:end] stably by feature f (left: bin <= `bin`, missing
   * left when `missingLeft`): left rows stay in place from `start`, right rows go to
   * spill[start:]; after wait(), `leftCount()` says how many went left.
   */
  startPartition(start: number, end: number, f: number, bin: number, missingLeft: boolean): void {
    Atomics.store(this.control, 5, 1);
    Atomics.store(this.control, 6, f);
    Atomics.store(this.control, 7, bin | (missingLeft ? 256 : 0));
    this.go(start, end);
  }

  leftCount(): number {
    return Atomics.load(this.control, 8);
  }

  private go(start: number, end: number): void {
    Atomics.store(this.control, 1, start);
    Atomics.store(this.control, 2, end);
    this.seq++;
    Atomics.store(this.control, 0, this.seq);
    Atomics.notify(this.control, 0);
  }

  wait(): void {
    while (Atomics.load(this.control, 3) !== this.seq)
      Atomics.wait(this.control, 3, Atomics.load(this.control, 3), 1000);
  }

  close(): void {
    Atomics.store(this.control, 4, 1);
    this.seq++;
    Atomics.store(this.control, 0, this.seq);
    Atomics.notify(this.control, 0);
    void this.worker.terminate();
  }
}
