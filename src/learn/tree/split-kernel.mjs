// The split search of the tree builder (tree.ts) over a node's histogram, in plain JavaScript so
// that the main thread and the histogram worker (hist-worker.mjs) run the very same code (as
// hist-kernel.mjs does for the histogram sums). A node's search can be cut into ranges of its
// features, each range searched by either thread: a range's best is exactly what the one-thread
// scan finds over those features, and mergeSplit takes the ranges in feature order, keeping the
// earlier one on ties, so the merged split is the one-thread split bit for bit. Types:
// split-kernel.d.mts.

const NB = 256;
const STRIDE = 3;
const MISSING = 255;

/** Doubles per task in a split task table (see splitTask). */
export const SPLIT_TASK = 16;
/** Search parameters (cfg): indices into the Float64Array. */
export const CFG_LAMBDA = 0;
export const CFG_MIN_CHILD = 1;
export const CFG_MIN_WEIGHT = 2;
export const CFG_MIN_GAIN = 3;
export const CFG_CAT_SMOOTH = 4;
export const CFG_CAT_L2 = 5;
export const CFG_MAX_CAT = 6;
export const CFG_PER_GROUP = 7;
export const CFG_ONEHOT = 8;
export const CFG_SIZE = 9;

/**
 * parent -= child over the features order[from:to): each feature's value bins (nb[f] of them)
 * and its missing bin, the parts of a histogram any row reaches.
 */
export function subtractFeatures(parent, child, order, from, to, nb) {
  for (let fi = from; fi < to; fi++) {
    const f = order[fi];
    const base = f * NB * STRIDE;
    const e = base + nb[f] * STRIDE;
    for (let k = base; k < e; k++) parent[k] -= child[k];
    const m = base + MISSING * STRIDE;
    parent[m] -= child[m];
    parent[m + 1] -= child[m + 1];
    parent[m + 2] -= child[m + 2];
  }
}

/** Zero the value bins (nb[f] of them) and the missing bin of every feature f < F of a histogram. */
export function clearHist(hist, nb, F) {
  for (let f = 0; f < F; f++) {
    const base = f * NB * STRIDE;
    hist.fill(0, base, base + nb[f] * STRIDE);
    hist.fill(0, base + MISSING * STRIDE, base + (MISSING + 1) * STRIDE);
  }
}

/**
 * The best split of a node (gradient sum G, hessian sum H, nNode rows) over the features
 * order[from:to) of its histogram, better than minimum gain: written to out[o:o+7] as gain,
 * feature (-1: none), bin, missing left (1/0), GL, HL, categorical (1/0); a categorical best's
 * left bins go to mask (256 bytes, the missing bin included when missing goes left). nb: value
 * bins per feature; isCat: 1 for a categorical feature; lo/hi (or null): per feature the lowest
 * and highest occupied value bin (bins outside are known empty). Candidates are taken in feature
 * then bin order, a later one only when strictly better.
 */
export function searchSplit(hist, order, from, to, nb, isCat, cfg, G, H, nNode, lo, hi, out, o, mask) {
  const lambda = cfg[CFG_LAMBDA];
  const minChild = cfg[CFG_MIN_CHILD];
  const minWeight = cfg[CFG_MIN_WEIGHT];
  const parentScore = (G * G) / (H + lambda);
  let bestGain = cfg[CFG_MIN_GAIN];
  let bestF = -1;
  let bestBin = 0;
  let bestMissingLeft = 0;
  let bestGL = 0;
  let bestHL = 0;
  let bestCat = 0;
  for (let fi = from; fi < to; fi++) {
    const f = order[fi];
    if (isCat[f] === 1) {
      // the categorical search continues from the best so far (out holds it)
      out[o] = bestGain;
      out[o + 1] = bestF;
      out[o + 2] = bestBin;
      out[o + 3] = bestMissingLeft;
      out[o + 4] = bestGL;
      out[o + 5] = bestHL;
      out[o + 6] = bestCat;
      if (categoricalSplit(hist, f, nb[f], cfg, G, H, nNode, out, o, mask)) {
        bestGain = out[o];
        bestF = f;
        bestBin = 0;
        bestMissingLeft = out[o + 3];
        bestGL = out[o + 4];
        bestHL = out[o + 5];
        bestCat = 1;
      }
      continue;
    }
    const base = f * NB * STRIDE;
    const mk = base + MISSING * STRIDE;
    const Gm = hist[mk];
    const Hm = hist[mk + 1];
    const Cm = hist[mk + 2];
    let GL = 0;
    let HL = 0;
    let CL = 0;
    // bins below lo are empty (nothing to add or split at); above hi too, but a split at hi
    // itself (every value left, missing right) is a candidate
    const b0 = lo ? lo[f] : 0;
    const b1 = hi ? Math.min(hi[f] + 1, nb[f] - 1) : nb[f] - 1;
    for (let b = b0; b < b1; b++) {
      const k = base + b * STRIDE;
      const c = hist[k + 2];
      GL += hist[k];
      HL += hist[k + 1];
      CL += c;
      if (c === 0) continue;
      // missing values to the right
      let cr = nNode - CL;
      if (CL >= minChild && cr >= minChild) {
        const hr = H - HL;
        if (HL >= minWeight && hr >= minWeight) {
          const gr = G - GL;
          const gain = (GL * GL) / (HL + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestF = f;
            bestBin = b;
            bestMissingLeft = 0;
            bestGL = GL;
            bestHL = HL;
            bestCat = 0;
          }
        }
      }
      if (Cm === 0) continue;
      // then to the left
      const gl = GL + Gm;
      const hl = HL + Hm;
      const cl = CL + Cm;
      cr = nNode - cl;
      if (cl < minChild || cr < minChild) continue;
      const hr = H - hl;
      if (hl < minWeight || hr < minWeight) continue;
      const gr = G - gl;
      const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestF = f;
        bestBin = b;
        bestMissingLeft = 1;
        bestGL = gl;
        bestHL = hl;
        bestCat = 0;
      }
    }
  }
  out[o] = bestGain;
  out[o + 1] = bestF;
  out[o + 2] = bestBin;
  out[o + 3] = bestMissingLeft;
  out[o + 4] = bestGL;
  out[o + 5] = bestHL;
  out[o + 6] = bestCat;
}

/**
 * LightGBM's categorical split search (FindBestThresholdCategorical) of feature f. A feature with
 * at most maxCatToOnehot categories tries each category alone against the rest. Otherwise the
 * categories with at least catSmooth rows in the node are ordered by
 * sum_gradient / (sum_hessian + catSmooth); each prefix of that order, from either end, with at
 * most maxCatThreshold categories, is a candidate left set, evaluated once at least
 * minDataPerGroup rows were added since the last candidate and while the right side keeps
 * minDataPerGroup rows; its gain uses lambda + catL2. Categories left out go right. Missing
 * values are tried on either side. A candidate better than out[o] (the best so far) replaces it
 * in out (gain, missing left, GL, HL) and its left bins go to mask; returns whether one did.
 */
function categoricalSplit(hist, f, nb, cfg, G, H, nNode, out, o, mask) {
  const base = f * NB * STRIDE;
  const smooth = cfg[CFG_CAT_SMOOTH];
  const oneHot = nb <= cfg[CFG_ONEHOT];
  const l2 = cfg[CFG_LAMBDA] + (oneHot ? 0 : cfg[CFG_CAT_L2]);
  const perGroup = oneHot ? 0 : cfg[CFG_PER_GROUP];
  const minWeight = cfg[CFG_MIN_WEIGHT];
  const used = [];
  for (let b = 0; b < nb; b++) {
    const c = hist[base + b * STRIDE + 2];
    if (c > 0 && (oneHot || c >= smooth)) used.push(b);
  }
  if (used.length === 0) return false;
  const ctr = (b) => hist[base + b * STRIDE] / (hist[base + b * STRIDE + 1] + smooth);
  if (!oneHot) used.sort((x, y) => ctr(x) - ctr(y) || x - y);
  const mk = base + MISSING * STRIDE;
  const Gm = hist[mk];
  const Hm = hist[mk + 1];
  const Cm = hist[mk + 2];
  const minLeaf = Math.max(1, cfg[CFG_MIN_CHILD]);
  const parentScore = (G * G) / (H + l2);
  const maxCat = oneHot ? 1 : Math.min(cfg[CFG_MAX_CAT], (used.length + 1) >> 1);
  let found = false;
  // one-hot: each category alone (one pass); sorted: prefixes from the low end, then the high end
  const passes = oneHot ? used.length : 2;
  for (let pass = 0; pass < passes; pass++) {
    let GL = 0;
    let HL = 0;
    let CL = 0;
    let group = 0;
    const at = (i) => (oneHot ? used[pass] : used[pass === 0 ? i : used.length - 1 - i]);
    for (let i = 0; i < Math.min(maxCat, used.length); i++) {
      const k = base + at(i) * STRIDE;
      GL += hist[k];
      HL += hist[k + 1];
      CL += hist[k + 2];
      group += hist[k + 2];
      if (nNode - CL < perGroup) break;
      if (group < perGroup) continue;
      let evaluated = false;
      for (let side = 0; side < 2; side++) {
        if (side === 1 && Cm === 0) break;
        const gl = side === 0 ? GL : GL + Gm;
        const hl = side === 0 ? HL : HL + Hm;
        const cl = side === 0 ? CL : CL + Cm;
        const cr = nNode - cl;
        if (cl < minLeaf || cr < minLeaf) continue;
        const hr = H - hl;
        if (hl < minWeight || hr < minWeight) continue;
        evaluated = true;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
        if (gain > out[o]) {
          out[o] = gain;
          out[o + 3] = side;
          out[o + 4] = gl;
          out[o + 5] = hl;
          mask.fill(0);
          for (let j = 0; j <= i; j++) mask[at(j)] = 1;
          if (side === 1) mask[MISSING] = 1;
          found = true;
        }
      }
      if (evaluated) group = 0;
    }
  }
  return found;
}

/**
 * Task i of a split task table T (SPLIT_TASK doubles each: histogram slot, slot of the histogram
 * to subtract first or -1, first and end index into order, G, H, rows, then searchSplit's 7
 * outputs): the node's histogram is slab[slot * HS:], its features order[from:to) are first
 * reduced by the subtracted histogram (the larger child is its parent minus its sibling), then
 * searched. masks: 256 bytes per task.
 */
export function splitTask(slab, HS, T, i, order, nb, isCat, cfg, masks) {
  const o = i * SPLIT_TASK;
  const slot = T[o];
  const sub = T[o + 1];
  const from = T[o + 2];
  const to = T[o + 3];
  const hist = slab.subarray(slot * HS, (slot + 1) * HS);
  if (sub >= 0) subtractFeatures(hist, slab.subarray(sub * HS, (sub + 1) * HS), order, from, to, nb);
  const mask = masks.subarray(i * NB, (i + 1) * NB);
  searchSplit(
    hist,
    order,
    from,
    to,
    nb,
    isCat,
    cfg,
    T[o + 4],
    T[o + 5],
    T[o + 6],
    null,
    null,
    T,
    o + 7,
    mask,
  );
}
