// The scoring kernel of complete-layout forests (see flat.ts), in plain JavaScript so that the
// calling thread (flat.ts) and the scoring worker threads (score-worker.mjs) run the very same
// code, loaded the same way from the sources, from dist and under the test runner. Types:
// score-kernel.d.mts.
import { addRowsWasm } from './score-wasm.mjs';

/** Rows of a block stay in L1 while every tree walks them; 64 rows of 23 doubles are 12 KB. */
const BLOCK = 64;

/**
 * out[i] += the forest's sum for rows [from, to) of data: in blocks of BLOCK rows, tree by tree,
 * eight rows at a time walking the same tree with their paths in locals (eight independent chains
 * of loads overlap instead of each waiting on the last), then the leftover rows one by one.
 */
export function addCompleteRows(f, data, from, to, nCols, out) {
  if (f.missingAsInfinity) {
    // the same walk compiled as WebAssembly when this thread has it (score-wasm.mjs)
    if (!addRowsWasm(f, data, from, to, nCols, out)) addRowsNoMissingTest(f, data, from, to, nCols, out);
    return;
  }
  const { depth, nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const nTrees = depth.length;
  for (let b = from; b < to; b += BLOCK) {
    const m = Math.min(BLOCK, to - b);
    const rowBase = b * nCols;
    for (let t = 0; t < nTrees; t++) {
      const d = depth[t];
      const no = nodeOffset[t];
      const lo = leafOffset[t] - ((1 << d) - 1);
      let r = 0;
      for (; r + 7 < m; r += 8)
        walk8(word, th, leaf, data, no, d, lo, rowBase + r * nCols, nCols, out, b + r);
      // separate functions, so code for a path not yet taken does not deoptimize the loop above
      for (; r < m; r++) out[b + r] += walk1(word, th, leaf, data, no, d, lo, rowBase + r * nCols);
    }
  }
}

/** Eight rows (b0, b0 + nCols, ...) down one tree, their paths in locals. */
function walk8(word, th, leaf, data, no, d, lo, b0, nCols, out, o) {
  const b1 = b0 + nCols;
  const b2 = b1 + nCols;
  const b3 = b2 + nCols;
  const b4 = b3 + nCols;
  const b5 = b4 + nCols;
  const b6 = b5 + nCols;
  const b7 = b6 + nCols;
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  let n4 = 0;
  let n5 = 0;
  let n6 = 0;
  let n7 = 0;
  for (let l = 0; l < d; l++) {
    const a0 = no + n0;
    const a1 = no + n1;
    const a2 = no + n2;
    const a3 = no + n3;
    const a4 = no + n4;
    const a5 = no + n5;
    const a6 = no + n6;
    const a7 = no + n7;
    const w0 = word[a0];
    const w1 = word[a1];
    const w2 = word[a2];
    const w3 = word[a3];
    const w4 = word[a4];
    const w5 = word[a5];
    const w6 = word[a6];
    const w7 = word[a7];
    const x0 = data[b0 + (w0 >> 1)];
    const x1 = data[b1 + (w1 >> 1)];
    const x2 = data[b2 + (w2 >> 1)];
    const x3 = data[b3 + (w3 >> 1)];
    const x4 = data[b4 + (w4 >> 1)];
    const x5 = data[b5 + (w5 >> 1)];
    const x6 = data[b6 + (w6 >> 1)];
    const x7 = data[b7 + (w7 >> 1)];
    // v > t is false for NaN: a missing value goes left unless the node says right
    n0 = 2 * n0 + 1 + (+(x0 > th[a0]) | (+Number.isNaN(x0) & w0));
    n1 = 2 * n1 + 1 + (+(x1 > th[a1]) | (+Number.isNaN(x1) & w1));
    n2 = 2 * n2 + 1 + (+(x2 > th[a2]) | (+Number.isNaN(x2) & w2));
    n3 = 2 * n3 + 1 + (+(x3 > th[a3]) | (+Number.isNaN(x3) & w3));
    n4 = 2 * n4 + 1 + (+(x4 > th[a4]) | (+Number.isNaN(x4) & w4));
    n5 = 2 * n5 + 1 + (+(x5 > th[a5]) | (+Number.isNaN(x5) & w5));
    n6 = 2 * n6 + 1 + (+(x6 > th[a6]) | (+Number.isNaN(x6) & w6));
    n7 = 2 * n7 + 1 + (+(x7 > th[a7]) | (+Number.isNaN(x7) & w7));
  }
  out[o] += leaf[lo + n0];
  out[o + 1] += leaf[lo + n1];
  out[o + 2] += leaf[lo + n2];
  out[o + 3] += leaf[lo + n3];
  out[o + 4] += leaf[lo + n4];
  out[o + 5] += leaf[lo + n5];
  out[o + 6] += leaf[lo + n6];
  out[o + 7] += leaf[lo + n7];
}

/** One row (at data[base]) down one tree: its leaf value. */
function walk1(word, th, leaf, data, no, d, lo, base) {
  let n = 0;
  for (let l = 0; l < d; l++) {
    const a = no + n;
    const w = word[a];
    const x = data[base + (w >> 1)];
    n = 2 * n + 1 + (+(x > th[a]) | (+Number.isNaN(x) & w));
  }
  return leaf[lo + n];
}

// ---- forests whose missing values can be read as infinities (flat.ts: missingAsInfinity)

/**
 * Rows of a block in the two-copy form below: 32 rows of 2 x 62 doubles are 32 KB, in L1 beside
 * the tree being walked.
 */
const INF_BLOCK = 32;
let twin = new Float64Array(0);

/**
 * Rows [from, from + m) of data as twins: value j of a row goes to 2j (a missing value as
 * -Infinity) and 2j + 1 (a missing value as +Infinity), so `word` (feature << 1 | missingRight)
 * picks the copy where a missing value goes the node's way with the plain test v > t: -Infinity
 * is never above a threshold, +Infinity above every threshold below +Infinity (flat.ts checks that
 * no node sending missing values right has +Infinity or NaN). Present values are unchanged.
 */
export function twinRows(data, from, m, nCols, into) {
  const n = m * nCols;
  for (let i = 0, s = from * nCols, o = 0; i < n; i++, s++, o += 2) {
    const x = data[s];
    if (Number.isNaN(x)) {
      into[o] = Number.NEGATIVE_INFINITY;
      into[o + 1] = Number.POSITIVE_INFINITY;
    } else {
      into[o] = x;
      into[o + 1] = x;
    }
  }
}

/** addCompleteRows on twin rows: the same sums, with no missing-value test per node. */
function addRowsNoMissingTest(f, data, from, to, nCols, out) {
  const { depth, nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const nTrees = depth.length;
  const w2 = 2 * nCols;
  if (twin.length < INF_BLOCK * w2) twin = new Float64Array(INF_BLOCK * w2);
  const tw = twin;
  for (let b = from; b < to; b += INF_BLOCK) {
    const m = Math.min(INF_BLOCK, to - b);
    twinRows(data, b, m, nCols, tw);
    for (let t = 0; t < nTrees; t++) {
      const d = depth[t];
      const no = nodeOffset[t];
      const lo = leafOffset[t] - ((1 << d) - 1);
      let r = 0;
      for (; r + 7 < m; r += 8) walk8Twin(word, th, leaf, tw, no, d, lo, r * w2, w2, out, b + r);
      for (; r < m; r++) out[b + r] += walk1Twin(word, th, leaf, tw, no, d, lo, r * w2);
    }
  }
}

/** Eight twin rows (b0, b0 + w2, ...) down one tree, their paths in locals. */
function walk8Twin(word, th, leaf, tw, no, d, lo, b0, w2, out, o) {
  const b1 = b0 + w2;
  const b2 = b1 + w2;
  const b3 = b2 + w2;
  const b4 = b3 + w2;
  const b5 = b4 + w2;
  const b6 = b5 + w2;
  const b7 = b6 + w2;
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  let n4 = 0;
  let n5 = 0;
  let n6 = 0;
  let n7 = 0;
  for (let l = 0; l < d; l++) {
    const a0 = no + n0;
    const a1 = no + n1;
    const a2 = no + n2;
    const a3 = no + n3;
    const a4 = no + n4;
    const a5 = no + n5;
    const a6 = no + n6;
    const a7 = no + n7;
    n0 = 2 * n0 + 1 + +(tw[b0 + word[a0]] > th[a0]);
    n1 = 2 * n1 + 1 + +(tw[b1 + word[a1]] > th[a1]);
    n2 = 2 * n2 + 1 + +(tw[b2 + word[a2]] > th[a2]);
    n3 = 2 * n3 + 1 + +(tw[b3 + word[a3]] > th[a3]);
    n4 = 2 * n4 + 1 + +(tw[b4 + word[a4]] > th[a4]);
    n5 = 2 * n5 + 1 + +(tw[b5 + word[a5]] > th[a5]);
    n6 = 2 * n6 + 1 + +(tw[b6 + word[a6]] > th[a6]);
    n7 = 2 * n7 + 1 + +(tw[b7 + word[a7]] > th[a7]);
  }
  out[o] += leaf[lo + n0];
  out[o + 1] += leaf[lo + n1];
  out[o + 2] += leaf[lo + n2];
  out[o + 3] += leaf[lo + n3];
  out[o + 4] += leaf[lo + n4];
  out[o + 5] += leaf[lo + n5];
  out[o + 6] += leaf[lo + n6];
  out[o + 7] += leaf[lo + n7];
}

/** One twin row (at tw[base]) down one tree: its leaf value. */
function walk1Twin(word, th, leaf, tw, no, d, lo, base) {
  let n = 0;
  for (let l = 0; l < d; l++) {
    const a = no + n;
    n = 2 * n + 1 + +(tw[base + word[a]] > th[a]);
  }
  return leaf[lo + n];
}

/**
 * Take blocks of `block` rows from a job shared between threads and score them until none is
 * left: ctl[0] is the next block to take, ctl[1] the blocks finished (each thread adds its own,
 * then wakes whoever waits on it). Rows are independent, so which thread scores a block never
 * changes a sum. Returns true when this thread finished the job's last block.
 */
export function scoreBlocks(f, data, nRows, nCols, out, ctl, block) {
  const nBlocks = Math.ceil(nRows / block);
  let last = false;
  for (;;) {
    const k = Atomics.add(ctl, 0, 1);
    if (k >= nBlocks) break;
    const from = k * block;
    addCompleteRows(f, data, from, Math.min(nRows, from + block), nCols, out);
    if (Atomics.add(ctl, 1, 1) + 1 === nBlocks) last = true;
    Atomics.notify(ctl, 1);
  }
  return last;
}
