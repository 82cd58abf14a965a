/**
 * All trees of an ensemble concatenated into flat typed arrays, so prediction walks arrays, not
 * objects. Two layouts behind one API:
 *
 * - **complete** (every tree at most COMPLETE_MAX_DEPTH deep, i.e. boosted trees): each tree is
 *   stored as a complete binary tree of its own depth d, children of node n at 2n+1 and 2n+2, a
 *   leaf above depth d padded into a pass-through split (threshold +Infinity, missing goes left)
 *   down to the bottom level. Scoring a row is exactly d steps with no leaf test and no child
 *   loads: `n = 2n + 1 + (v > t || (v is NaN && missing goes right))`.
 * - **linked** (deep trees, i.e. random forests): explicit left/right indices, leaves have
 *   feature -1.
 *
 * Both give the same sums as walking the trees one by one (pinned in tests).
 */
import type { Tree } from './tree.js';

/** Trees up to this depth use the complete layout (2^d leaves per tree). */
export const COMPLETE_MAX_DEPTH = 10;

export interface LinkedForest {
  layout: 'linked';
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
}

export interface CompleteForest {
  layout: 'complete';
  /** Per tree: its depth, the offset of its internal nodes and of its leaves. */
  depth: Int32Array;
  nodeOffset: Int32Array;
  leafOffset: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** 1 when a missing value goes right at that node. */
  missingRight: Uint8Array;
  /** feature << 1 | missingRight per node: one load instead of two on the batch path. */
  word: Int32Array;
  leaf: Float64Array;
}

export type FlatForest = LinkedForest | CompleteForest;

/** Depth of a tree (a single leaf has depth 0). */
export function treeDepth(t: Tree): number {
  let max = 0;
  const stack: number[] = [0, 0];
  while (stack.length) {
    const d = stack.pop()!;
    const n = stack.pop()!;
    if (t.feature[n] === -1) {
      if (d > max) max = d;
    } else stack.push(t.left[n], d + 1, t.right[n], d + 1);
  }
  return max;
}

export function flatten(trees: readonly Tree[], layout?: FlatForest['layout']): FlatForest {
  const depths = trees.map(treeDepth);
  const chosen = layout ?? (depths.every((d) => d <= COMPLETE_MAX_DEPTH) ? 'complete' : 'linked');
  return chosen === 'complete' ? flattenComplete(trees, depths) : flattenLinked(trees);
}

function flattenLinked(trees: readonly Tree[]): LinkedForest {
  let total = 0;
  for (const t of trees) total += t.feature.length;
  const f: LinkedForest = {
    layout: 'linked',
    roots: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    defaultLeft: new Uint8Array(total),
    value: new Float64Array(total),
  };
  let off = 0;
  trees.forEach((t, k) => {
    f.roots[k] = off;
    f.feature.set(t.feature, off);
    f.threshold.set(t.threshold, off);
    f.defaultLeft.set(t.defaultLeft, off);
    f.value.set(t.value, off);
    for (let i = 0; i < t.feature.length; i++) {
      f.left[off + i] = t.left[i] + off;
      f.right[off + i] = t.right[i] + off;
    }
    off += t.feature.length;
  });
  return f;
}

function flattenComplete(trees: readonly Tree[], depths: number[]): CompleteForest {
  const k = trees.length;
  const depth = Int32Array.from(depths);
  const nodeOffset = new Int32Array(k);
  const leafOffset = new Int32Array(k);
  let nodes = 0;
  let leaves = 0;
  for (let t = 0; t < k; t++) {
    nodeOffset[t] = nodes;
    leafOffset[t] = leaves;
    nodes += (1 << depth[t]) - 1;
    leaves += 1 << depth[t];
  }
  const f: CompleteForest = {
    layout: 'complete',
    depth,
    nodeOffset,
    leafOffset,
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes).fill(Number.POSITIVE_INFINITY),
    missingRight: new Uint8Array(nodes),
    word: new Int32Array(nodes),
    leaf: new Float64Array(leaves),
  };
  trees.forEach((tree, t) => {
    const d = depth[t];
    const firstLeaf = (1 << d) - 1;
    // (source node, position in the complete tree); a source leaf fills the whole left-most path
    // below its position with pass-through splits (the +Infinity default) and every bottom slot
    // under it with its value, so any path ends on it.
    const stack: number[] = [0, 0];
    while (stack.length) {
      const pos = stack.pop()!;
      const src = stack.pop()!;
      if (tree.feature[src] === -1) {
        let lo = pos;
        let hi = pos;
        while (lo < firstLeaf) {
          lo = 2 * lo + 1;
          hi = 2 * hi + 2;
        }
        f.leaf.fill(tree.value[src], leafOffset[t] + lo - firstLeaf, leafOffset[t] + hi - firstLeaf + 1);
        continue;
      }
      const at = nodeOffset[t] + pos;
      f.feature[at] = tree.feature[src];
      f.threshold[at] = tree.threshold[src];
      f.missingRight[at] = tree.defaultLeft[src] ? 0 : 1;
      stack.push(tree.left[src], 2 * pos + 1, tree.right[src], 2 * pos + 2);
    }
  });
  for (let i = 0; i < nodes; i++) f.word[i] = (f.feature[i] << 1) | f.missingRight[i];
  return f;
}

/**
 * out[i] += the sum of every tree's leaf value for row i of data (nCols wide), trees added in
 * order (so the sums are the same in both layouts). Complete layout: see addCompleteRows (eight
 * rows at a time), or for under 8 rows four trees at a time. Linked layout: tree by tree over all
 * rows.
 */
export function addForest(
  f: FlatForest,
  data: Float64Array,
  nRows: number,
  nCols: number,
  out: Float64Array,
): void {
  if (f.layout === 'complete') addComplete(f, data, nRows, nCols, out);
  else addLinked(f, data, nRows, nCols, out);
}

function addComplete(f: CompleteForest, data: Float64Array, nRows: number, nCols: number, out: Float64Array) {
  const { depth, nodeOffset, leafOffset, feature, threshold, missingRight, leaf } = f;
  const nTrees = depth.length;
  if (nRows < 8) {
    // a handful of rows (online serving): four trees at a time when they have the same depth, so
    // four independent paths overlap instead of one path waiting on each load
    for (let i = 0, base = 0; i < nRows; i++, base += nCols) {
      let sum = out[i];
      let t = 0;
      for (; t + 3 < nTrees; t += 4) {
        const d = depth[t];
        if (depth[t + 1] !== d || depth[t + 2] !== d || depth[t + 3] !== d) break;
        const o0 = nodeOffset[t];
        const o1 = nodeOffset[t + 1];
        const o2 = nodeOffset[t + 2];
        const o3 = nodeOffset[t + 3];
        let n0 = 0;
        let n1 = 0;
        let n2 = 0;
        let n3 = 0;
        for (let l = 0; l < d; l++) {
          const a0 = o0 + n0;
          const a1 = o1 + n1;
          const a2 = o2 + n2;
          const a3 = o3 + n3;
          const v0 = data[base + feature[a0]];
          const v1 = data[base + feature[a1]];
          const v2 = data[base + feature[a2]];
          const v3 = data[base + feature[a3]];
          n0 = 2 * n0 + 1 + (+(v0 > threshold[a0]) | (+Number.isNaN(v0) & missingRight[a0]));
          n1 = 2 * n1 + 1 + (+(v1 > threshold[a1]) | (+Number.isNaN(v1) & missingRight[a1]));
          n2 = 2 * n2 + 1 + (+(v2 > threshold[a2]) | (+Number.isNaN(v2) & missingRight[a2]));
          n3 = 2 * n3 + 1 + (+(v3 > threshold[a3]) | (+Number.isNaN(v3) & missingRight[a3]));
        }
        const first = (1 << d) - 1;
        // added in tree order, as the other paths do
        sum += leaf[leafOffset[t] - first + n0];
        sum += leaf[leafOffset[t + 1] - first + n1];
        sum += leaf[leafOffset[t + 2] - first + n2];
        sum += leaf[leafOffset[t + 3] - first + n3];
      }
      for (; t < nTrees; t++) {
        const d = depth[t];
        const no = nodeOffset[t];
        let n = 0;
        for (let l = 0; l < d; l++) {
          const at = no + n;
          const v = data[base + feature[at]];
          n = 2 * n + 1 + (+(v > threshold[at]) | (+Number.isNaN(v) & missingRight[at]));
        }
        sum += leaf[leafOffset[t] - ((1 << d) - 1) + n];
      }
      out[i] = sum;
    }
    return;
  }
  addCompleteRows(f, data, 0, nRows, nCols, out);
}

/** Rows of a block stay in L1 while every tree walks them; 64 rows of 23 doubles are 12 KB. */
const BLOCK = 64;

/**
 * out[i] += the forest's sum for rows [from, to) of data: in blocks of BLOCK rows, tree by tree,
 * eight rows at a time walking the same tree with their paths in locals (eight independent chains
 * of loads overlap instead of each waiting on the last), then the leftover rows one by one.
 */
export function addCompleteRows(
  f: CompleteForest,
  data: Float64Array,
  from: number,
  to: number,
  nCols: number,
  out: Float64Array,
): void {
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
function walk8(
  word: Int32Array,
  th: Float64Array,
  leaf: Float64Array,
  data: Float64Array,
  no: number,
  d: number,
  lo: number,
  b0: number,
  nCols: number,
  out: Float64Array,
  o: number,
): void {
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
function walk1(
  word: Int32Array,
  th: Float64Array,
  leaf: Float64Array,
  data: Float64Array,
  no: number,
  d: number,
  lo: number,
  base: number,
): number {
  let n = 0;
  for (let l = 0; l < d; l++) {
    const a = no + n;
    const w = word[a];
    const x = data[base + (w >> 1)];
    n = 2 * n + 1 + (+(x > th[a]) | (+Number.isNaN(x) & w));
  }
  return leaf[lo + n];
}

function addLinked(f: LinkedForest, data: Float64Array, nRows: number, nCols: number, out: Float64Array) {
  const { roots, feature, threshold, left, right, defaultLeft, value } = f;
  for (let k = 0; k < roots.length; k++) {
    const root = roots[k];
    for (let i = 0, base = 0; i < nRows; i++, base += nCols) {
      let node = root;
      let feat = feature[node];
      while (feat !== -1) {
        const v = data[base + feat];
        const t = threshold[node];
        node = v <= t ? left[node] : v > t ? right[node] : defaultLeft[node] ? left[node] : right[node];
        feat = feature[node];
      }
      out[i] += value[node];
    }
  }
}
