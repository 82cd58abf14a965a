/**
 * The numeric column profile in plain JavaScript, so that a worker thread (profile-worker.mjs)
 * runs exactly the code the main thread runs (profile.ts): count, missing, distinct, min, max,
 * mean, sample std, exact quantiles (numpy's linear interpolation) and a histogram.
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

export function numericColumnProfile(name, values, bins, refEdges) {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const present = count === values.length ? values : new Float64Array(count);
  if (present !== values)
    for (let i = 0, j = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present[j++] = values[i];
  const base = {
    name,
    kind: 'numeric',
    count,
    missing: values.length - count,
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
  let sum = 0;
  let min = present[0];
  let max = present[0];
  for (let i = 0; i < count; i++) {
    const v = present[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / count;
  let ss = 0;
  for (let i = 0; i < count; i++) {
    const d = present[i] - mean;
    ss += d * d;
  }
  const sorted = sortedCopy(present);
  let distinct = 1;
  for (let i = 1; i < count; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  let edges;
  if (refEdges) edges = refEdges;
  else if (min === max) edges = [min, max];
  else
    edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
  const nb = edges.length - 1;
  const last = nb - 1;
  const cnt = new Float64Array(nb);
  const e = Float64Array.from(edges);
  const lo0 = e[0];
  const width = (e[nb] - lo0) / nb;
  const step = width > 0 && Number.isFinite(width) ? 1 / width : 0;
  for (let i = 0; i < count; i++) {
    // the bin b with e[b] <= v < e[b + 1] (the last bin closed; values outside a reference's range
    // fall into its first or last bin): a guess for equal widths, corrected against the edges
    const v = present[i];
    let b = step > 0 ? Math.floor((v - lo0) * step) : 0;
    if (b > last) b = last;
    else if (!(b >= 0)) b = 0;
    while (b > 0 && v < e[b]) b--;
    while (b < last && v >= e[b + 1]) b++;
    cnt[b]++;
  }
  const counts = Array.from(cnt);
  // quantiles: linear interpolation between closest ranks (numpy's default)
  const quantile = (q) => {
    const pos = (count - 1) * q;
    const lo = sorted[Math.floor(pos)];
    const hi = sorted[Math.ceil(pos)];
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
    histogram: { edges, counts },
  };
}
