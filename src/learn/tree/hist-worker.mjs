// Histogram worker: builds the gradient/hessian/count histogram of a row range into its own
// shared buffer when the main thread asks (see parallel.ts). Plain JavaScript so that it loads
// the same way from the sources, from dist and under the test runner.
import { workerData } from 'node:worker_threads';

const { bins, grad, hess, rows, hist, control, nFeatures } = workerData;
const B = new Uint8Array(bins);
const G = new Float64Array(grad);
const H = new Float64Array(hess);
const R = new Int32Array(rows);
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
