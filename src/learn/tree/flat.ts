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
 * Category-set splits (native categorical features) live in either layout as a bitset per node
 * (`cat`): code c goes left when its bit is set, any other value right, a missing value (NaN or a
 * negative code) by the node's missing direction. Forests with such splits are scored by their own
 * loops here (on the calling thread), the purely numeric ones by the fast kernels.
 *
 * Both give the same sums as walking the trees one by one (pinned in tests).
 */
import { threadId } from 'node:worker_threads';
import { scoringPool } from './pool.js';
import { addCompleteRows, twinRows } from './score-kernel.mjs';
import type { Tree } from './tree.js';

/** Trees up to this depth use the complete layout (2^d leaves per tree). */
export const COMPLETE_MAX_DEPTH = 10;

/**
 * The category-set splits of a flattened forest, per node of its layout: start[i] is the first
 * word of node i's bitset in bits (-1 for a numeric node), words[i] its length in 32-bit words.
 */
export interface CategorySplits {
  start: Int32Array;
  words: Int32Array;
  bits: Uint32Array;
}

export interface LinkedForest {
  layout: 'linked';
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
  /** Present when some tree has a category-set split. */
  cat?: CategorySplits;
}

export interface CompleteForest {
  layout: 'complete';
  /**
   * This forest's number in the process (the flattening thread's id and its count of forests), by
   * which a thread's WebAssembly memory knows the forest it holds (score-wasm.mjs).
   */
  id: number;
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
  /**
   * No node sending missing values right has a threshold of +Infinity or NaN, so a missing value
   * can be read as -Infinity or +Infinity by the node's side (score-kernel.mjs twinRows) and
   * scoring needs no missing-value test.
   */
  missingAsInfinity: boolean;
  leaf: Float64Array;
  /** Present when some tree has a category-set split. */
  cat?: CategorySplits;
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

/** Whether node n of tree t is a category-set split. */
function isCatNode(t: Tree, n: number): boolean {
  const co = t.catOffset;
  return co !== undefined && co[n + 1] > co[n];
}

/** Collects bitsets for the category-set nodes of a layout with `nodes` nodes. */
class CatBuilder {
  readonly start: Int32Array;
  readonly words: Int32Array;
  private bits: number[] = [];
  constructor(nodes: number) {
    this.start = new Int32Array(nodes).fill(-1);
    this.words = new Int32Array(nodes);
  }
  /** Node `at` of the layout gets the left-going codes of node n of tree t. */
  add(at: number, t: Tree, n: number): void {
    const values = t.catValues!;
    const from = t.catOffset![n];
    const to = t.catOffset![n + 1];
    let max = 0;
    for (let i = from; i < to; i++) if (values[i] > max) max = values[i];
    const w = (max >>> 5) + 1;
    const s = this.bits.length;
    for (let i = 0; i < w; i++) this.bits.push(0);
    for (let i = from; i < to; i++) this.bits[s + (values[i] >>> 5)] |= 1 << (values[i] & 31);
    this.start[at] = s;
    this.words[at] = w;
  }
  build(): CategorySplits {
    return { start: this.start, words: this.words, bits: Uint32Array.from(this.bits, (b) => b >>> 0) };
  }
}

/**
 * Whether value v goes left at category-set node a: its code's bit is set. A missing value (NaN
 * or negative) goes by missingRight; a value that is not one of the codes (too large, not an
 * integer) goes right, as categoricalLeft (tree.ts) routes it.
 */
function catLeft(cat: CategorySplits, a: number, v: number, missingRight: number): boolean {
  if (!(v >= 0)) return missingRight === 0;
  const c = v | 0;
  if (c !== v) return false;
  const w = c >>> 5;
  return w < cat.words[a] && ((cat.bits[cat.start[a] + w] >>> (c & 31)) & 1) === 1;
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
  const cats = trees.some((t) => t.catOffset !== undefined) ? new CatBuilder(total) : null;
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
      if (cats && isCatNode(t, i)) cats.add(off + i, t, i);
    }
    off += t.feature.length;
  });
  if (cats) f.cat = cats.build();
  return f;
}

const sharedInt32 = (n: number) => new Int32Array(new SharedArrayBuffer(n * 4));

let forestCount = 0;
/** A number no other forest flattened in this process has. */
const nextForestId = () => ++forestCount * 65536 + (threadId % 65536);

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
  // what the kernel reads lives in shared memory, so scoring workers read it without copies
  const f: CompleteForest = {
    layout: 'complete',
    id: nextForestId(),
    depth: sharedInt32(k),
    nodeOffset: sharedInt32(k),
    leafOffset: sharedInt32(k),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(new SharedArrayBuffer(nodes * 8)).fill(Number.POSITIVE_INFINITY),
    missingRight: new Uint8Array(nodes),
    word: sharedInt32(nodes),
    leaf: new Float64Array(new SharedArrayBuffer(leaves * 8)),
    missingAsInfinity: false,
  };
  f.depth.set(depth);
  f.nodeOffset.set(nodeOffset);
  f.leafOffset.set(leafOffset);
  const cats = trees.some((t) => t.catOffset !== undefined) ? new CatBuilder(nodes) : null;
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
      if (cats && isCatNode(tree, src)) cats.add(at, tree, src);
      stack.push(tree.left[src], 2 * pos + 1, tree.right[src], 2 * pos + 2);
    }
  });
  let asInfinity = true;
  for (let i = 0; i < nodes; i++) {
    f.word[i] = (f.feature[i] << 1) | f.missingRight[i];
    if (f.missingRight[i] === 1 && !(f.threshold[i] < Number.POSITIVE_INFINITY)) asInfinity = false;
  }
  f.missingAsInfinity = asInfinity && !cats;
  if (cats) f.cat = cats.build();
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
  threads = 1,
): void {
  if (f.layout === 'complete' && f.cat) addCompleteCat(f, f.cat, data, nRows, nCols, out);
  else if (f.layout === 'complete') {
    if (threads > 1 && nRows >= PARALLEL_MIN_ROWS && scoringPool().available > 0)
      scoringPool().addSync(f, data, nRows, nCols, out, threads - 1);
    else addComplete(f, data, nRows, nCols, out);
  } else addLinked(f, data, nRows, nCols, out);
}

/** From this many rows a batch is worth sharing with the scoring workers (pool.ts). */
export const PARALLEL_MIN_ROWS = 4096;

/** addForest on the scoring workers, off the calling thread (complete layout; else on this thread). */
export async function addForestAsync(
  f: FlatForest,
  data: Float64Array,
  nRows: number,
  nCols: number,
  out: Float64Array,
): Promise<void> {
  if (f.layout === 'complete' && !f.cat && nRows >= 8 && scoringPool().available > 0)
    await scoringPool().add(f, data, nRows, nCols, out);
  else addForest(f, data, nRows, nCols, out);
}

function addComplete(f: CompleteForest, data: Float64Array, nRows: number, nCols: number, out: Float64Array) {
  const { depth } = f;
  const nTrees = depth.length;
  if (nRows < 8) {
    // a handful of rows (online serving): eight trees at a time when they have the same depth, so
    // eight independent paths overlap instead of one path waiting on each load; tree order kept
    if (f.missingAsInfinity) {
      addFewTwin(f, data, nRows, nCols, out);
      return;
    }
    for (let i = 0, base = 0; i < nRows; i++, base += nCols) {
      let sum = out[i];
      let t = 0;
      while (t < nTrees) {
        const d = depth[t];
        if (
          t + 7 < nTrees &&
          depth[t + 1] === d &&
          depth[t + 2] === d &&
          depth[t + 3] === d &&
          depth[t + 4] === d &&
          depth[t + 5] === d &&
          depth[t + 6] === d &&
          depth[t + 7] === d
        ) {
          sum = eightTrees(f, data, base, t, d, sum);
          t += 8;
        } else {
          sum = oneTree(f, data, base, t, sum);
          t++;
        }
      }
      out[i] = sum;
    }
    return;
  }
  addCompleteRows(f, data, 0, nRows, nCols, out);
}

/** sum + the leaves of trees t..t+7 (all of depth d) for the row at data[base], added in order. */
function eightTrees(
  f: CompleteForest,
  data: Float64Array,
  base: number,
  t: number,
  d: number,
  sum: number,
): number {
  const { nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const o0 = nodeOffset[t];
  const o1 = nodeOffset[t + 1];
  const o2 = nodeOffset[t + 2];
  const o3 = nodeOffset[t + 3];
  const o4 = nodeOffset[t + 4];
  const o5 = nodeOffset[t + 5];
  const o6 = nodeOffset[t + 6];
  const o7 = nodeOffset[t + 7];
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  let n4 = 0;
  let n5 = 0;
  let n6 = 0;
  let n7 = 0;
  for (let l = 0; l < d; l++) {
    const a0 = o0 + n0;
    const a1 = o1 + n1;
    const a2 = o2 + n2;
    const a3 = o3 + n3;
    const a4 = o4 + n4;
    const a5 = o5 + n5;
    const a6 = o6 + n6;
    const a7 = o7 + n7;
    const w0 = word[a0];
    const w1 = word[a1];
    const w2 = word[a2];
    const w3 = word[a3];
    const w4 = word[a4];
    const w5 = word[a5];
    const w6 = word[a6];
    const w7 = word[a7];
    const v0 = data[base + (w0 >> 1)];
    const v1 = data[base + (w1 >> 1)];
    const v2 = data[base + (w2 >> 1)];
    const v3 = data[base + (w3 >> 1)];
    const v4 = data[base + (w4 >> 1)];
    const v5 = data[base + (w5 >> 1)];
    const v6 = data[base + (w6 >> 1)];
    const v7 = data[base + (w7 >> 1)];
    n0 = 2 * n0 + 1 + (+(v0 > th[a0]) | (+Number.isNaN(v0) & w0));
    n1 = 2 * n1 + 1 + (+(v1 > th[a1]) | (+Number.isNaN(v1) & w1));
    n2 = 2 * n2 + 1 + (+(v2 > th[a2]) | (+Number.isNaN(v2) & w2));
    n3 = 2 * n3 + 1 + (+(v3 > th[a3]) | (+Number.isNaN(v3) & w3));
    n4 = 2 * n4 + 1 + (+(v4 > th[a4]) | (+Number.isNaN(v4) & w4));
    n5 = 2 * n5 + 1 + (+(v5 > th[a5]) | (+Number.isNaN(v5) & w5));
    n6 = 2 * n6 + 1 + (+(v6 > th[a6]) | (+Number.isNaN(v6) & w6));
    n7 = 2 * n7 + 1 + (+(v7 > th[a7]) | (+Number.isNaN(v7) & w7));
  }
  const first = (1 << d) - 1;
  sum += leaf[leafOffset[t] - first + n0];
  sum += leaf[leafOffset[t + 1] - first + n1];
  sum += leaf[leafOffset[t + 2] - first + n2];
  sum += leaf[leafOffset[t + 3] - first + n3];
  sum += leaf[leafOffset[t + 4] - first + n4];
  sum += leaf[leafOffset[t + 5] - first + n5];
  sum += leaf[leafOffset[t + 6] - first + n6];
  sum += leaf[leafOffset[t + 7] - first + n7];
  return sum;
}

/** A row as twins (score-kernel.mjs twinRows), reused by addFewTwin. */
let twinRow = new Float64Array(0);

/**
 * addComplete's few-rows path for a forest with missingAsInfinity: each row as twins, then eight
 * trees at a time (of one depth; else one) with no missing-value test; tree order kept.
 */
function addFewTwin(f: CompleteForest, data: Float64Array, nRows: number, nCols: number, out: Float64Array) {
  const { depth } = f;
  const nTrees = depth.length;
  if (twinRow.length < 2 * nCols) twinRow = new Float64Array(2 * nCols);
  const tw = twinRow;
  for (let i = 0; i < nRows; i++) {
    twinRows(data, i, 1, nCols, tw);
    let sum = out[i];
    let t = 0;
    while (t < nTrees) {
      const d = depth[t];
      if (
        t + 7 < nTrees &&
        depth[t + 1] === d &&
        depth[t + 2] === d &&
        depth[t + 3] === d &&
        depth[t + 4] === d &&
        depth[t + 5] === d &&
        depth[t + 6] === d &&
        depth[t + 7] === d
      ) {
        sum = eightTreesTwin(f, tw, t, d, sum);
        t += 8;
      } else {
        sum = oneTreeTwin(f, tw, t, sum);
        t++;
      }
    }
    out[i] = sum;
  }
}

/** sum + the leaves of trees t..t+7 (all of depth d) for the twin row tw, added in order. */
function eightTreesTwin(f: CompleteForest, tw: Float64Array, t: number, d: number, sum: number): number {
  const { nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const o0 = nodeOffset[t];
  const o1 = nodeOffset[t + 1];
  const o2 = nodeOffset[t + 2];
  const o3 = nodeOffset[t + 3];
  const o4 = nodeOffset[t + 4];
  const o5 = nodeOffset[t + 5];
  const o6 = nodeOffset[t + 6];
  const o7 = nodeOffset[t + 7];
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  let n4 = 0;
  let n5 = 0;
  let n6 = 0;
  let n7 = 0;
  for (let l = 0; l < d; l++) {
    const a0 = o0 + n0;
    const a1 = o1 + n1;
    const a2 = o2 + n2;
    const a3 = o3 + n3;
    const a4 = o4 + n4;
    const a5 = o5 + n5;
    const a6 = o6 + n6;
    const a7 = o7 + n7;
    n0 = 2 * n0 + 1 + +(tw[word[a0]] > th[a0]);
    n1 = 2 * n1 + 1 + +(tw[word[a1]] > th[a1]);
    n2 = 2 * n2 + 1 + +(tw[word[a2]] > th[a2]);
    n3 = 2 * n3 + 1 + +(tw[word[a3]] > th[a3]);
    n4 = 2 * n4 + 1 + +(tw[word[a4]] > th[a4]);
    n5 = 2 * n5 + 1 + +(tw[word[a5]] > th[a5]);
    n6 = 2 * n6 + 1 + +(tw[word[a6]] > th[a6]);
    n7 = 2 * n7 + 1 + +(tw[word[a7]] > th[a7]);
  }
  const first = (1 << d) - 1;
  sum += leaf[leafOffset[t] - first + n0];
  sum += leaf[leafOffset[t + 1] - first + n1];
  sum += leaf[leafOffset[t + 2] - first + n2];
  sum += leaf[leafOffset[t + 3] - first + n3];
  sum += leaf[leafOffset[t + 4] - first + n4];
  sum += leaf[leafOffset[t + 5] - first + n5];
  sum += leaf[leafOffset[t + 6] - first + n6];
  sum += leaf[leafOffset[t + 7] - first + n7];
  return sum;
}

/** sum + tree t's leaf for the twin row tw. */
function oneTreeTwin(f: CompleteForest, tw: Float64Array, t: number, sum: number): number {
  const { depth, nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const d = depth[t];
  const no = nodeOffset[t];
  let n = 0;
  for (let l = 0; l < d; l++) {
    const a = no + n;
    n = 2 * n + 1 + +(tw[word[a]] > th[a]);
  }
  return sum + leaf[leafOffset[t] - ((1 << d) - 1) + n];
}

/** sum + tree t's leaf for the row at data[base]. */
function oneTree(f: CompleteForest, data: Float64Array, base: number, t: number, sum: number): number {
  const { depth, nodeOffset, leafOffset, threshold: th, word, leaf } = f;
  const d = depth[t];
  const no = nodeOffset[t];
  let n = 0;
  for (let l = 0; l < d; l++) {
    const a = no + n;
    const w = word[a];
    const v = data[base + (w >> 1)];
    n = 2 * n + 1 + (+(v > th[a]) | (+Number.isNaN(v) & w));
  }
  return sum + leaf[leafOffset[t] - ((1 << d) - 1) + n];
}

/** Tree by tree over all rows; category-set nodes (f.cat) test their bitset. */
function addLinked(f: LinkedForest, data: Float64Array, nRows: number, nCols: number, out: Float64Array) {
  const { roots, feature, threshold, left, right, defaultLeft, value, cat } = f;
  for (let k = 0; k < roots.length; k++) {
    const root = roots[k];
    for (let i = 0, base = 0; i < nRows; i++, base += nCols) {
      let node = root;
      let feat = feature[node];
      while (feat !== -1) {
        const v = data[base + feat];
        const t = threshold[node];
        if (cat !== undefined && cat.start[node] >= 0)
          node = catLeft(cat, node, v, defaultLeft[node] ? 0 : 1) ? left[node] : right[node];
        else node = v <= t ? left[node] : v > t ? right[node] : defaultLeft[node] ? left[node] : right[node];
        feat = feature[node];
      }
      out[i] += value[node];
    }
  }
}

/** addComplete for a forest with category-set splits: tree by tree over all rows. */
function addCompleteCat(
  f: CompleteForest,
  cat: CategorySplits,
  data: Float64Array,
  nRows: number,
  nCols: number,
  out: Float64Array,
) {
  const { depth, nodeOffset, leafOffset, threshold: th, feature, missingRight } = f;
  const start = cat.start;
  for (let t = 0; t < depth.length; t++) {
    const d = depth[t];
    const no = nodeOffset[t];
    const lo = leafOffset[t] - ((1 << d) - 1);
    for (let i = 0, base = 0; i < nRows; i++, base += nCols) {
      let n = 0;
      for (let l = 0; l < d; l++) {
        const a = no + n;
        const v = data[base + feature[a]];
        const right =
          start[a] >= 0
            ? !catLeft(cat, a, v, missingRight[a])
            : v > th[a] || (Number.isNaN(v) && missingRight[a] === 1);
        n = 2 * n + (right ? 2 : 1);
      }
      out[i] += f.leaf[lo + n];
    }
  }
}
