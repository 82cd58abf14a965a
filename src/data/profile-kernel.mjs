/**
 * The numeric column profile in plain JavaScript, so that a worker thread (profile-worker.mjs)
 * runs exactly the code the main thread runs (profile.ts): count, missing, distinct, min, max,
 * mean, sample std, exact quantiles (numpy's linear interpolation) and a histogram.
 *
 * Nothing is approximate, and most columns are not sorted. Values that are all decimals of at most
 * 9 places (k / 10^d exactly, as CSV numbers are) are handled as integer keys k - kmin:
 * - a wide range of keys (most number columns): the keys are grouped by key range in one counting
 *   pass, distinct keys are counted a range at a time in a bitset small enough to stay in cache,
 *   and a rank is found by sorting only its range (decimalProfile; 1.5-1.8x less CPU than the
 *   fine histogram and span-wide bitset it replaced, on the bench's 1M-row columns, whose keys
 *   span 1e7-4e7);
 * - a narrow range (integers, codes, labels): counts per key give the distinct count, the ranks
 *   and the bins (narrowProfile).
 * Other columns (other doubles, too wide a range) are sorted whole (sortedCopy).
 */

/**
 * A sorted copy of `vals` (no NaN): a bucket sort on a fine histogram between the minimum and the
 * maximum (binning is monotone, so the buckets are in order), each bucket then sorted on its own;
 * a bucket holding most of the values (skewed data) is bucketed again. Several times faster than
 * Float64Array.prototype.sort on a million numbers.
 */
export function sortedCopy(vals, depth = 0) {
  const n = vals.length;
  if (n <= 2048 || depth > 4) return Float64Array.from(vals).sort();
  let min = vals[0];
  let max = vals[0];
  for (let i = 1; i < n; i++) {
    const v = vals[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  if (min === max) return Float64Array.from(vals).sort();
  const B = Math.min(1 << 18, Math.max(256, n >> 3));
  const scale = B / (max - min);
  if (!Number.isFinite(scale) || scale === 0) return Float64Array.from(vals).sort();
  const start = new Int32Array(B + 1);
  const bins = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = Math.floor((vals[i] - min) * scale);
    b = b >= B ? B - 1 : b;
    bins[i] = b;
    start[b + 1]++;
  }
  for (let b = 0; b < B; b++) start[b + 1] += start[b];
  const out = new Float64Array(n);
  const at = start.slice(0, B);
  for (let i = 0; i < n; i++) out[at[bins[i]]++] = vals[i];
  for (let b = 0; b < B; b++) {
    const lo = start[b];
    const hi = start[b + 1];
    const len = hi - lo;
    if (len < 2) continue;
    if (len <= 32) {
      for (let i = lo + 1; i < hi; i++) {
        const v = out[i];
        let j = i - 1;
        while (j >= lo && out[j] > v) {
          out[j + 1] = out[j];
          j--;
        }
        out[j + 1] = v;
      }
    } else if (len > n / 4) out.set(sortedCopy(out.subarray(lo, hi), depth + 1), lo);
    else out.subarray(lo, hi).sort();
  }
  return out;
}

const QS = [0.05, 0.25, 0.5, 0.75, 0.95];
/** The most keys a narrow range of decimals has (counted per key). */
const NARROW = 1 << 16;

/**
 * The smallest d in 0..9 for which the first (up to 64) present values are k / 10^d exactly, or -1.
 */
function decimalsOf(values) {
  const sample = [];
  for (let i = 0; i < values.length && sample.length < 64; i++)
    if (!Number.isNaN(values[i])) sample.push(values[i]);
  for (let t = 0; t <= 9; t++) {
    const s = 10 ** t;
    if (sample.every((v) => Math.round(v * s) / s === v)) return t;
  }
  return -1;
}

/** Pass 1 over the values: count, sum, min and max of the present ones, into out[0..3]. */
function sumsOf(values, out) {
  const n = values.length;
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  out[0] = count;
  out[1] = sum;
  out[2] = min;
  out[3] = max;
}

/**
 * The histogram being counted: edges e (nb + 1 of them), counts cnt, and a guess of the bin for
 * equal widths (lo0, step). One shape for every column, and binValue a top-level function, so the
 * hot loops calling it are optimized once for all columns (a closure per column deoptimized them
 * at each new column: another call target).
 */
function histogramOf(e, cnt) {
  const nb = e.length - 1;
  const lo0 = e[0];
  const width = (e[nb] - lo0) / nb;
  return { e, cnt, lo0, step: width > 0 && Number.isFinite(width) ? 1 / width : 0, last: nb - 1 };
}

/**
 * Count v in the bin b with e[b] <= v < e[b + 1] (the last bin closed; values outside a
 * reference's range fall into its first or last bin): a guess for equal widths, corrected against
 * the edges.
 */
function binValue(h, v) {
  binCount(h, v, 1);
}

/** The general pass 2: squared deviations from the mean and the histogram, into out[0] and h. */
function deviationsOf(values, mean, h, out) {
  const n = values.length;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    const dv = v - mean;
    ss += dv * dv;
    binValue(h, v);
  }
  out[0] = ss;
}

/** The present (non-NaN) values of a column with count of them. */
function presentOf(values, count) {
  const n = values.length;
  if (count === n) return values;
  const present = new Float64Array(count);
  for (let i = 0, j = 0; i < n; i++) if (!Number.isNaN(values[i])) present[j++] = values[i];
  return present;
}

/** The number of distinct values in a sorted array of count values. */
function distinctSorted(sorted, count) {
  let distinct = 1;
  for (let i = 1; i < count; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

let warm = false;

/**
 * Run the kernel once on small columns that take every path (decimals with NaN and -0, a narrow
 * range of integers, other doubles, reference edges), so that each function has type feedback
 * for all its code before the first large column: without it, the code V8 compiles for a hot loop
 * (on-stack replacement) is thrown away at the loop's exit (code after it never ran), and the
 * next column's loop starts again in the interpreter; the first few large columns took 2-4x the
 * time of later ones.
 */
function warmUp() {
  warm = true;
  const m = 512;
  const dec = new Float64Array(m);
  const ints = new Float64Array(m);
  const dbl = new Float64Array(m);
  // decimals over a wide range of keys (4e5): the path of most CSV number columns
  const wide = new Float64Array(m);
  let x = 12345;
  for (let i = 0; i < m; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    dec[i] = i % 17 === 0 ? Number.NaN : i % 13 === 0 ? -0 : Math.round((x / 2 ** 32 - 0.5) * 2e6) / 1e4;
    ints[i] = i % 19 === 0 ? Number.NaN : x % 7;
    dbl[i] = i % 23 === 0 ? Number.NaN : Math.exp(x / 2 ** 28);
    wide[i] = i % 29 === 0 ? Number.NaN : Math.round((x / 2 ** 32 - 0.5) * 4e5) / 1e3;
  }
  for (const v of [dec, ints, dbl, wide]) {
    numericColumnProfile('', v, 10, null);
    numericColumnProfile('', v, 10, [-1, 0, 1, 2]);
  }
}

export function numericColumnProfile(name, values, bins, refEdges) {
  if (!warm && values.length >= 65536) warmUp();
  const n = values.length;
  // pass 1: count, sum, min, max
  const s1 = new Float64Array(4);
  sumsOf(values, s1);
  const count = s1[0];
  const sum = s1[1];
  const min = s1[2];
  const max = s1[3];
  const base = {
    name,
    kind: 'numeric',
    count,
    missing: n - count,
    top: null,
    other: null,
  };
  if (count === 0)
    return {
      ...base,
      distinct: 0,
      min: null,
      max: null,
      mean: null,
      std: null,
      quantiles: null,
      histogram: null,
    };
  const mean = sum / count;
  let edges;
  if (refEdges) edges = refEdges;
  else if (min === max) edges = [min, max];
  else
    edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
  const nb = edges.length - 1;
  const cnt = new Float64Array(nb);
  const e = Float64Array.from(edges);
  const h = histogramOf(e, cnt);
  // integer keys (see the file's comment), when the values look like decimals
  const d = decimalsOf(values);
  const s = d < 0 ? 1 : 10 ** d;
  const kmin = Math.round(min * s);
  const span = Math.round(max * s) - kmin + 1;
  const decimal0 =
    d >= 0 &&
    Math.abs(kmin) <= 2 ** 52 &&
    Math.abs(kmin + span) <= 2 ** 52 &&
    span >= 1 &&
    span <= Math.max(1 << 20, 64 * count) &&
    span <= 1 << 28;
  // a narrow range of decimals (integers, codes, 0/1 labels): counts per k give the ranks directly
  const kc = decimal0 && span <= NARROW ? new Int32Array(span) : null;
  // decimals: a narrow range counted per key (narrowProfile), a wide one sorted into key ranges
  // (decimalProfile)
  if (decimal0 && nonDecreasing(e)) {
    const got =
      kc !== null
        ? narrowProfile(values, count, mean, s, kmin, kc, h)
        : decimalProfile(values, count, mean, s, kmin, span, e, cnt);
    if (got !== null) return profileOf(base, count, min, max, mean, got.ss, got.distinct, got.at, edges, cnt);
  }
  // other doubles (or edges that decrease): the histogram value by value, a sorted copy for the rest
  const s2 = new Float64Array(1);
  deviationsOf(values, mean, h, s2);
  const sorted = sortedCopy(presentOf(values, count));
  const at = new Map(wantedRanks(count).map((r) => [r, sorted[r]]));
  return profileOf(base, count, min, max, mean, s2[0], distinctSorted(sorted, count), at, edges, cnt);
}

/**
 * The column's profile from its statistics: `at` maps the ranks wantedRanks names to their values;
 * quantiles interpolate linearly between the closest ranks (numpy's default).
 */
function profileOf(base, count, min, max, mean, ss, distinct, at, edges, cnt) {
  const quantile = (q) => {
    const pos = (count - 1) * q;
    const lo = at.get(Math.floor(pos));
    const hi = at.get(Math.ceil(pos));
    return lo + (hi - lo) * (pos - Math.floor(pos));
  };
  return {
    ...base,
    distinct,
    min,
    max,
    mean,
    std: count > 1 ? Math.sqrt(ss / (count - 1)) : 0,
    quantiles: {
      p5: quantile(0.05),
      p25: quantile(0.25),
      p50: quantile(0.5),
      p75: quantile(0.75),
      p95: quantile(0.95),
    },
    histogram: { edges, counts: Array.from(cnt) },
  };
}

/** The ranks of the sorted order the quantiles need (the two closest to each). */
function wantedRanks(count) {
  const ranks = [];
  for (const q of QS) {
    const pos = (count - 1) * q;
    ranks.push(Math.floor(pos), Math.ceil(pos));
  }
  return ranks;
}

/**
 * The profile's order statistics, distinct count and histogram for a column of decimals with a
 * narrow range of keys (value = (kmin + j) / s exactly, j < kc.length): one pass counts each key
 * (and the squared deviations, in value order), then everything comes from the counts: the
 * distinct keys are the counted ones, ranks are read off the running counts, and each key's value
 * is binned once with its count. null when a value is not a decimal. kc must be all zeros.
 */
function narrowProfile(values, count, mean, s, kmin, kc, h) {
  const s2 = new Float64Array(2);
  if (!decimalKeys(values, mean, s, kmin, 0, null, kc, s2)) {
    kc.fill(0);
    return null;
  }
  const ss = s2[0];
  const negZeros = s2[1];
  let distinct = 0;
  for (let j = 0; j < kc.length; j++) {
    const c = kc[j];
    if (c === 0) continue;
    distinct++;
    binCount(h, (kmin + j) / s, c);
  }
  const ranks = wantedRanks(count);
  return { ss, distinct, at: ranksFromCounts(kc, kmin, s, negZeros, ranks) };
}

/** Count c values equal to v in their bin (see binValue). */
function binCount(h, v, c) {
  const e = h.e;
  const last = h.last;
  let b = h.step > 0 ? Math.floor((v - h.lo0) * h.step) : 0;
  if (b > last) b = last;
  else if (!(b >= 0)) b = 0;
  while (b > 0 && v < e[b]) b--;
  while (b < last && v >= e[b + 1]) b++;
  h.cnt[b] += c;
}

/** Whether the edges never decrease (then a value's bin is the number of inner edges at or below it). */
function nonDecreasing(e) {
  for (let b = 1; b < e.length; b++) if (!(e[b] >= e[b - 1])) return false;
  return true;
}

/** Scratch arrays reused from column to column (no fresh pages or garbage per column). */
let keysBuf = new Int32Array(0);
let sortedBuf = new Int32Array(0);
function scratch(n) {
  if (keysBuf.length < n) {
    keysBuf = new Int32Array(n);
    sortedBuf = new Int32Array(n);
  }
}

/**
 * Pass 2 for decimals: squared deviations, each present value's key k - kmin (value k / s
 * exactly) into keys (unless null), the count per key range (key >>> rb; per key for rb 0) into
 * rc, and the -0s; false as soon as a value is not k / s.
 */
function decimalKeys(values, mean, s, kmin, rb, keys, rc, out) {
  const n = values.length;
  let ss = 0;
  let j = 0;
  let negZeros = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    const dv = v - mean;
    ss += dv * dv;
    const k = Math.round(v * s);
    if (k / s !== v) return false;
    const key = k - kmin;
    if (keys !== null) keys[j++] = key;
    rc[key >>> rb]++;
    if (v === 0 && 1 / v < 0) negZeros++;
  }
  out[0] = ss;
  out[1] = negZeros;
  return true;
}

/** Keys grouped by range, ranges in order (a one-pass counting scatter); at[g] is range g's start. */
function scatterKeys(keys, count, rb, at, sorted) {
  const pos = at.slice(0, at.length - 1);
  for (let j = 0; j < count; j++) {
    const key = keys[j];
    sorted[pos[key >>> rb]++] = key;
  }
}

/** Distinct keys, a range at a time, in a bitset of one range (small enough to stay in cache). */
function distinctKeys(sorted, at, bits) {
  let distinct = 0;
  const words = bits.length;
  for (let g = 0; g + 1 < at.length; g++) {
    const lo = at[g];
    const hi = at[g + 1];
    if (lo === hi) continue;
    bits.fill(0);
    for (let j = lo; j < hi; j++) {
      const key = sorted[j];
      const w = (key >>> 5) & (words - 1);
      const bit = 1 << (key & 31);
      const x = bits[w];
      if ((x & bit) === 0) {
        bits[w] = x | bit;
        distinct++;
      }
    }
  }
  return distinct;
}

/** The number of keys below kk (0 <= kk <= span), from the ranges' counts and one range's keys. */
function keysBelow(sorted, at, rb, kk) {
  const g = kk >>> rb;
  if (g + 1 >= at.length) return at[at.length - 1];
  let below = at[g];
  for (let j = at[g]; j < at[g + 1]; j++) if (sorted[j] < kk) below++;
  return below;
}

/**
 * The profile's order statistics, distinct count and histogram for a column of decimals with a
 * wide range of keys (value = (kmin + key) / s exactly, 0 <= key < span), without a full sort: the
 * keys are grouped by range (key >>> rb: at most 512 ranges, each a bitset of at most 64 KiB), in
 * one counting pass; distinct keys are counted range by range in a small bitset; a wanted rank is
 * found in its range, sorted (or counted) alone; a histogram edge's count below is the ranges
 * below it plus a pass over its own range. Bins: a value's bin is the number of inner edges at or
 * below it (the edges never decrease), as binValue counts it. null when a value is not a decimal.
 */
function decimalProfile(values, count, mean, s, kmin, span, e, cnt) {
  const bitsOfSpan = 32 - Math.clz32(span - 1);
  const rb = Math.max(12, bitsOfSpan - 9);
  const nRanges = ((span - 1) >>> rb) + 1;
  scratch(count);
  const keys = keysBuf;
  const sorted = sortedBuf;
  const rc = new Int32Array(nRanges);
  const s2 = new Float64Array(2);
  if (!decimalKeys(values, mean, s, kmin, rb, keys, rc, s2)) return null;
  const ss = s2[0];
  const negZeros = s2[1];
  const at = new Int32Array(nRanges + 1);
  for (let g = 0; g < nRanges; g++) at[g + 1] = at[g] + rc[g];
  scatterKeys(keys, count, rb, at, sorted);
  const distinct = distinctKeys(sorted, at, new Int32Array(1 << (rb - 5)));
  // the ranks the quantiles need, each from its range's keys in order
  const ranks = wantedRanks(count);
  const zeroKey = -kmin;
  const zerosFrom = negZeros > 0 ? keysBelow(sorted, at, rb, zeroKey) : 0;
  const ordered = new Map();
  const at2 = new Map();
  for (const r of ranks) {
    if (at2.has(r)) continue;
    let g = 0;
    while (at[g + 1] <= r) g++;
    let keysInOrder = ordered.get(g);
    if (keysInOrder === undefined) {
      keysInOrder = sorted.slice(at[g], at[g + 1]).sort();
      ordered.set(g, keysInOrder);
    }
    const key = keysInOrder[r - at[g]];
    const k = kmin + key;
    at2.set(r, k === 0 ? (r - zerosFrom < negZeros ? -0 : 0) : k / s);
  }
  // the histogram: counts between the inner edges
  const nb = e.length - 1;
  let prev = 0;
  for (let b = 1; b < nb; b++) {
    const x = e[b];
    // the smallest key whose value is at or above x
    let kk = Math.ceil(x * s) - kmin;
    if (!(kk > 0)) kk = 0;
    else if (kk > span) kk = span;
    while (kk > 0 && (kmin + kk - 1) / s >= x) kk--;
    while (kk < span && (kmin + kk) / s < x) kk++;
    const below = keysBelow(sorted, at, rb, kk);
    cnt[b - 1] = below - prev;
    prev = below;
  }
  cnt[nb - 1] = count - prev;
  return { ss, distinct, at: at2 };
}

/**
 * The values at the given ranks of the sorted order from counts per k (value k / s exactly; the
 * -0s sort before the 0s, as in a typed-array sort).
 */
function ranksFromCounts(kc, kmin, s, negZeros, ranks) {
  const at = new Map();
  let cum = 0;
  let j = 0;
  for (const r of [...new Set(ranks)].sort((a, b) => a - b)) {
    while (cum + kc[j] <= r) cum += kc[j++];
    const k = kmin + j;
    at.set(r, k === 0 ? (r - cum < negZeros ? -0 : 0) : k / s);
  }
  return at;
}
