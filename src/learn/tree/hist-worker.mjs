// Histogram worker: builds the gradient/hessian/count histogram of a row range into its own
// shared buffer, or partitions a row range stably by one feature, when the main thread asks (see
// parallel.ts). Plain JavaScript so that it loads the same way from the sources, from dist and
// under the test runner.
import { workerData } from 'node:worker_threads';

const { bins, grad, hess, rows, cols, spill, nRows, hist, control, nFeatures } = workerData;
const B = new Uint8Array(bins);
const G = new Float64Array(grad);
const H = new Float64Array(hess);
const R = new Int32Array(rows);
const C = new Uint8Array(cols);
const S = new Int32Array(spill);
const out = new Float64Array(hist);
const ctl = new Int32Array(control);
const F = nFeatures;
const NB = 256;
const STRIDE = 3;

let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (Atomics.load(ctl, 4) === 1) break;
  const start = Atomics.load(ctl, 1);
  const end = Atomics.load(ctl, 2);
  if (Atomics.load(ctl, 5) === 1) {
    // stable partition of R[start:end] by one feature: left rows in place, right rows to S[start:]
    const f = Atomics.load(ctl, 6);
    const packed = Atomics.load(ctl, 7);
    const bin = packed & 255;
    const missingLeft = packed >= 256;
    const col = C.subarray(f * nRows, (f + 1) * nRows);
    let wl = start;
    let wr = start;
    for (let i = start; i < end; i++) {
      const r = R[i];
      const v = col[r];
      if (v === 255 ? missingLeft : v <= bin) R[wl++] = r;
      else S[wr++] = r;
    }
    Atomics.store(ctl, 8, wl - start);
    Atomics.store(ctl, 3, seen);
    Atomics.notify(ctl, 3);
    continue;
  }
  out.fill(0);
  for (let i = start; i < end; i++) {
    const r = R[i];
    const g = G[r];
    const h = H[r];
    const base = r * F;
    for (let f = 0; f < F; f++) {
      const k = (f * NB + B[base + f]) * STRIDE;
      out[k] += g;
      out[k + 1] += h;
      out[k + 2] += 1;
    }
  }
  Atomics.store(ctl, 3, seen);
  Atomics.notify(ctl, 3);
}
