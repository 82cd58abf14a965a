// Histogram worker: builds the gradient/hessian/count histogram of a row range into its own
// shared buffer, or partitions a row range stably by one feature (optionally summing one side's
// rows into the histogram on the way), when the main thread asks (see parallel.ts for the
// control slots and the spin-then-sleep handshake). Plain JavaScript so that it loads the same way
// from the sources, from dist and under the test runner. The loops live in functions over local
// variables: module-level code runs unoptimised or on-stack-replaced, with every module binding a
// context load.
import { workerData } from 'node:worker_threads';
import { edgeTasks } from './bin-kernel.mjs';
import {
  addGradients,
  addLeaves,
  addRoutes,
  addRows,
  binaryGradients,
  partitionRows,
} from './hist-kernel.mjs';
import { clearHist, splitTask } from './split-kernel.mjs';

const SPIN = 40_000;

// op 0 (with counts = false: addGradients, the counts left at zero)
function histRange(out, words, bytes, W, GH, R, F, start, end, counts) {
  out.fill(0);
  if (counts) addRows(out, R, start, end, words, bytes, W, F, GH);
  else addGradients(out, R, start, end, words, bytes, W, F, GH);
}

// stable partition of R[start:end] by one column: left rows in place, right rows to S[start:];
// returns how many went left
function partitionRange(R, S, col, start, end, bin, missingLeft) {
  return partitionRows(R, S, col, start, end, bin, missingLeft, start) - start;
}

// the second half of a node split between the threads (ops 1 and 2): partitioned, its right rows
// copied back after its left ones (where they end up once the main thread has joined the halves:
// its own half holds as many rows as it has), and with op 2 one side's rows summed into out
function partitionHalf(out, words, bytes, W, GH, R, S, F, col, start, end, bin, missingLeft, hist, histLeft) {
  const left = partitionRange(R, S, col, start, end, bin, missingLeft);
  R.set(S.subarray(start, end - left), start + left);
  if (hist) {
    out.fill(0);
    if (histLeft) addRows(out, R, start, start + left, words, bytes, W, F, GH);
    else addRows(out, R, start + left, end, words, bytes, W, F, GH);
  }
  return left;
}

// op 3: take whole-node tasks (parallel.ts's startTasks) until none are left
function runTasks(ctl, T, slab, HS, words, bytes, W, GH, R, S, F, C, nRows, count, nb) {
  for (;;) {
    const i = Atomics.add(ctl, 12, 1);
    if (i >= count) return;
    const o = i * 6;
    const start = T[o];
    const end = T[o + 1];
    const packed = T[o + 3];
    const col = C.subarray(T[o + 2] * nRows, (T[o + 2] + 1) * nRows);
    const left = partitionRange(R, S, col, start, end, packed & 255, (packed & 256) !== 0);
    R.set(S.subarray(start, end - left), start + left);
    if ((packed & 512) !== 0) {
      // the smaller child's slot (handed out by the main thread's acquire() as it was last used)
      const out = slab.subarray(T[o + 4] * HS, (T[o + 4] + 1) * HS);
      clearHist(out, nb, F);
      if ((packed & 1024) !== 0) addRows(out, R, start, start + left, words, bytes, W, F, GH);
      else addRows(out, R, start + left, end, words, bytes, W, F, GH);
    }
    T[o + 5] = left;
  }
}

// op 8: a level's partitions in one request: first the second halves of its large nodes (the
// halves table: TASK_INTS ints each, as op 3's tasks but start is the half's, the histogram goes
// to the worker's histogram h and the left count to int 5), then op 3's whole-node tasks
function runLevel(ctl, H, nHalves, outs, T, slab, HS, words, bytes, W, GH, R, S, F, C, nRows, count, nb) {
  for (let h = 0; h < nHalves; h++) {
    const o = h * 6;
    const packed = H[o + 3];
    const col = C.subarray(H[o + 2] * nRows, (H[o + 2] + 1) * nRows);
    H[o + 5] = partitionHalf(
      outs[h],
      words,
      bytes,
      W,
      GH,
      R,
      S,
      F,
      col,
      H[o],
      H[o + 1],
      packed & 255,
      (packed & 256) !== 0,
      (packed & 512) !== 0,
      (packed & 1024) !== 0,
    );
  }
  runTasks(ctl, T, slab, HS, words, bytes, W, GH, R, S, F, C, nRows, count, nb);
}

// op 5: take split tasks (parallel.ts's startSplits) until none are left
function runSplits(ctl, slab, HS, sp, count) {
  const { T, order, nb, isCat, cfg, masks } = sp;
  for (;;) {
    const i = Atomics.add(ctl, 12, 1);
    if (i >= count) return;
    splitTask(slab, HS, T, i, order, nb, isCat, cfg, masks);
  }
}

// op 4: parallel.ts's binaryGradients over rows [start, end)
function serve(data) {
  const { nRows, nFeatures: F } = data;
  const W = (F + 3) >> 2;
  const words = new Uint32Array(data.rowBins);
  const bytes = new Uint8Array(data.rowBins);
  const GH = new Float64Array(data.gh);
  const R = new Int32Array(data.rows);
  const C = new Uint8Array(data.cols);
  const S = new Int32Array(data.spill);
  const HS = data.histSize;
  // the worker's histograms: the first for ops 0 and 2, one per half of op 8
  const outs = Array.from(
    { length: data.halves.count },
    (_, h) => new Float64Array(data.hist, h * HS * 8, HS),
  );
  const out = outs[0];
  const H = new Int32Array(data.halves.table);
  const ctl = new Int32Array(data.control);
  const T = new Int32Array(data.tasks);
  const slab = new Float64Array(data.slab);
  const sp = {
    T: new Float64Array(data.split.tasks),
    masks: new Uint8Array(data.split.masks),
    cfg: new Float64Array(data.split.cfg),
    order: new Int32Array(data.split.order),
    nb: new Int32Array(data.split.nb),
    isCat: new Uint8Array(data.split.isCat),
  };
  const bo = data.binary;
  const M = bo ? new Float64Array(bo.margin) : null;
  const Y = bo ? new Float64Array(bo.y) : null;
  const Wt = bo?.weights ? new Float64Array(bo.weights) : null;
  const G = bo ? new Float64Array(bo.grad) : null;
  const Hs = bo ? new Float64Array(bo.hess) : null;
  const wPos = bo ? bo.wPos : 1;
  const L = new Float64Array(data.leaves);
  const RT = new Float64Array(data.routes);
  const bs = data.binSample;
  let BS = bs && {
    sample: new Float64Array(bs.sample),
    cnt: new Int32Array(bs.cnt),
    stride: bs.stride,
    edges: new Float64Array(bs.edges),
    nEdges: new Int32Array(bs.nEdges),
  };
  data.binSample = null;
  let seen = 0;
  for (;;) {
    let s = Atomics.load(ctl, 0);
    for (let i = 0; s === seen && i < SPIN; i++) s = Atomics.load(ctl, 0);
    if (s === seen) {
      Atomics.store(ctl, 9, 1);
      Atomics.wait(ctl, 0, seen, 100);
      Atomics.store(ctl, 9, 0);
      continue;
    }
    seen = s;
    if (Atomics.load(ctl, 4) === 1) return;
    const start = Atomics.load(ctl, 1);
    const end = Atomics.load(ctl, 2);
    const op = Atomics.load(ctl, 5);
    if (op === 0) histRange(out, words, bytes, W, GH, R, F, start, end, Atomics.load(ctl, 6) === 0);
    else if (op === 4) binaryGradients(M, Y, Wt, wPos, G, Hs, GH, start, end);
    else if (op === 9) {
      // a root over every row in order: this half's gradients, then its histogram
      binaryGradients(M, Y, Wt, wPos, G, Hs, GH, start, end);
      histRange(out, words, bytes, W, GH, R, F, start, end, Atomics.load(ctl, 6) === 0);
    } else if (op === 3) runTasks(ctl, T, slab, HS, words, bytes, W, GH, R, S, F, C, nRows, end, sp.nb);
    else if (op === 5) runSplits(ctl, slab, HS, sp, end);
    else if (op === 8)
      runLevel(
        ctl,
        H,
        Atomics.load(ctl, 6),
        outs,
        T,
        slab,
        HS,
        words,
        bytes,
        W,
        GH,
        R,
        S,
        F,
        C,
        nRows,
        end,
        sp.nb,
      );
    else if (op === 6) {
      addLeaves(L, Atomics.load(ctl, 6), R, start, end, M);
      addRoutes(RT, Atomics.load(ctl, 7), R, start, end, M, C, nRows, 1, 0);
    } else if (op === 7) {
      // bin edges, once per fit: the sample is let go afterwards
      edgeTasks(ctl, 12, end, BS.sample, BS.stride, BS.cnt, start, BS.edges, BS.nEdges);
      BS = null;
    } else {
      const f = Atomics.load(ctl, 6);
      const packed = Atomics.load(ctl, 7);
      const col = C.subarray(f * nRows, (f + 1) * nRows);
      const bin = packed & 255;
      const missingLeft = (packed & 256) !== 0;
      const left = partitionHalf(
        out,
        words,
        bytes,
        W,
        GH,
        R,
        S,
        F,
        col,
        start,
        end,
        bin,
        missingLeft,
        op === 2,
        (packed & 512) !== 0,
      );
      Atomics.store(ctl, 8, left);
    }
    Atomics.store(ctl, 3, seen);
    if (Atomics.load(ctl, 10) === 1) Atomics.notify(ctl, 3);
  }
}

try {
  serve(workerData);
} catch (e) {
  // the main thread polls the control array and cannot see an 'error' event while it waits: a
  // failure flag (slot 11) makes its wait() throw instead of polling forever
  const ctl = new Int32Array(workerData.control);
  Atomics.store(ctl, 11, 1);
  Atomics.notify(ctl, 3);
  throw e;
}
