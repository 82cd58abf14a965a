/**
 * All trees of an ensemble concatenated into one set of flat arrays (leaves have feature -1),
 * so prediction walks typed arrays with absolute node indices.
 */
import type { Tree } from './tree.js';

export interface FlatForest {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
}

export function flatten(trees: readonly Tree[]): FlatForest {
  let total = 0;
  for (const t of trees) total += t.feature.length;
  const f: FlatForest = {
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

/**
 * out[i] += the sum of every tree's leaf value for row i of data (nCols wide). Tree by tree: one
 * tree's nodes stay in L1 cache while the rows stream past (faster than row by row once the whole
 * ensemble outgrows L2).
 */
export function addForest(
  f: FlatForest,
  data: Float64Array,
  nRows: number,
  nCols: number,
  out: Float64Array,
): void {
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
