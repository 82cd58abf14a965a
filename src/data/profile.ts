/**
 * Profiles: per-column statistics of a Frame (count, missing, distinct, min, max, mean, std,
 * quantiles, and a histogram or the top categories) as plain JSON. A profile is also a drift
 * reference: profile new data against it (`profileFrame(frame, { reference })` bins numbers on the
 * reference's edges) and compare with `psi` or `compareProfiles`.
 */
import { KeelError } from '../core/errors.js';
import type { Frame } from './frame.js';

export interface Quantiles {
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}
export interface ColumnProfile {
  name: string;
  kind: 'numeric' | 'categorical' | 'string';
  /** Present (non-missing) values. */
  count: number;
  missing: number;
  distinct: number;
  /** Numeric columns only (null otherwise, or when every value is missing). */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (n - 1). */
  std: number | null;
  quantiles: Quantiles | null;
  /** Numeric columns: counts per bin; edges has one more entry than counts. */
  histogram: { edges: number[]; counts: number[] } | null;
  /** Categorical and string columns: the most frequent values (ties by value), and the rest. */
  top: { value: string; count: number }[] | null;
  other: number | null;
}
export interface DataProfile {
  rows: number;
  columns: ColumnProfile[];
}
export interface ProfileOptions {
  /** Histogram bins (default 10). */
  bins?: number;
  /** Top categories kept (default 20). */
  top?: number;
  /** Bin numeric columns on this profile's edges, so that the two can be compared. */
  reference?: DataProfile;
}

/**
 * A sorted copy of `vals` (no NaN): a bucket sort on a fine histogram between the minimum and the
 * maximum (binning is monotone, so the buckets are in order), each bucket then sorted on its own;
 * a bucket holding most of the values (skewed data) is bucketed again. Several times faster than
 * Float64Array.prototype.sort on a million numbers.
 */
export function sortedCopy(vals: Float64Array, depth = 0): Float64Array {
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

function numericProfile(
  name: string,
  values: Float64Array,
  bins: number,
  ref?: ColumnProfile,
): ColumnProfile {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const present = count === values.length ? values : new Float64Array(count);
  if (present !== values)
    for (let i = 0, j = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present[j++] = values[i];
  const base = {
    name,
    kind: 'numeric' as const,
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
  let edges: number[];
  if (ref?.histogram) edges = ref.histogram.edges;
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
  const quantile = (q: number) => {
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

function valueProfile(
  name: string,
  kind: 'categorical' | 'string',
  n: number,
  value: (i: number) => string | null,
  topK: number,
): ColumnProfile {
  const freq = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (v === null) missing++;
    else freq.set(v, (freq.get(v) ?? 0) + 1);
  }
  const sorted = [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, topK).map(([v, c]) => ({ value: v, count: c }));
  const count = n - missing;
  return {
    name,
    kind,
    count,
    missing,
    distinct: freq.size,
    min: null,
    max: null,
    mean: null,
    std: null,
    quantiles: null,
    histogram: null,
    top,
    other: count - top.reduce((s, t) => s + t.count, 0),
  };
}

/** valueProfile for codes: counted per code, then the same ordering and output. */
function categoricalProfile(
  name: string,
  codes: Int32Array,
  categories: readonly string[],
  topK: number,
): ColumnProfile {
  const per = new Float64Array(categories.length);
  let missing = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c < 0) missing++;
    else per[c]++;
  }
  // equal texts under different codes cannot happen (a dictionary has each text once)
  const freq: [string, number][] = [];
  categories.forEach((v, i) => {
    if (per[i] > 0) freq.push([v, per[i]]);
  });
  const sorted = freq.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, topK).map(([v, c]) => ({ value: v, count: c }));
  const count = codes.length - missing;
  return {
    name,
    kind: 'categorical',
    count,
    missing,
    distinct: freq.length,
    min: null,
    max: null,
    mean: null,
    std: null,
    quantiles: null,
    histogram: null,
    top,
    other: count - top.reduce((s, t) => s + t.count, 0),
  };
}

/** Profile every column of a Frame. */
export function profileFrame(frame: Frame, options: ProfileOptions = {}): DataProfile {
  const bins = options.bins ?? 10;
  const topK = options.top ?? 20;
  const refCols = new Map((options.reference?.columns ?? []).map((c) => [c.name, c]));
  const columns = frame.names.map((name): ColumnProfile => {
    const c = frame.col(name);
    if (c.kind === 'numeric') return numericProfile(name, c.values, bins, refCols.get(name));
    if (c.kind === 'categorical') return categoricalProfile(name, c.codes, c.categories, topK);
    const { values } = c;
    return valueProfile(name, 'string', values.length, (i) => values[i], topK);
  });
  return { rows: frame.nRows, columns };
}

const EPS = 1e-4;

/**
 * Population stability index of `current` against `reference` for one column: over the
 * reference's histogram bins (profile the current data with `{ reference }` so the edges match)
 * or over the categories in either profile's top list plus the rest. 0 means the same
 * distribution; above 0.2 is commonly read as a large shift.
 */
export function psi(reference: ColumnProfile, current: ColumnProfile): number {
  let a: number[];
  let b: number[];
  if (reference.histogram && current.histogram) {
    const re = reference.histogram.edges;
    const ce = current.histogram.edges;
    if (re.length !== ce.length || re.some((e, i) => e !== ce[i]))
      throw new KeelError(
        'KEEL_E_INPUT',
        `psi: column "${current.name}" was binned on other edges; profile it with { reference }`,
        { column: current.name },
      );
    a = reference.histogram.counts;
    b = current.histogram.counts;
  } else if (reference.top && current.top) {
    const ra = new Map(reference.top.map((t) => [t.value, t.count]));
    const cb = new Map(current.top.map((t) => [t.value, t.count]));
    const keys = [...new Set([...ra.keys(), ...cb.keys()])];
    a = [...keys.map((k) => ra.get(k) ?? 0), reference.other ?? 0];
    b = [...keys.map((k) => cb.get(k) ?? 0), current.other ?? 0];
  } else return Number.NaN;
  const sa = a.reduce((s, x) => s + x, 0);
  const sb = b.reduce((s, x) => s + x, 0);
  if (sa === 0 || sb === 0) return Number.NaN;
  let out = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.max(a[i] / sa, EPS);
    const q = Math.max(b[i] / sb, EPS);
    out += (q - p) * Math.log(q / p);
  }
  return out;
}

function num(x: number | null): string {
  if (x === null) return '-';
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3 ? x.toExponential(3) : String(Math.round(x * 1e4) / 1e4);
}

/** The profile as a terminal table: one row per column. */
export function formatProfile(profile: DataProfile, title = 'profile'): string {
  const headers = [
    'column',
    'kind',
    'count',
    'missing',
    'distinct',
    'min',
    'max',
    'mean',
    'std',
    'p50',
    'top',
  ];
  const rows = profile.columns.map((c) => [
    c.name,
    c.kind,
    String(c.count),
    String(c.missing),
    String(c.distinct),
    num(c.min),
    num(c.max),
    num(c.mean),
    num(c.std),
    num(c.quantiles?.p50 ?? null),
    c.top
      ? c.top
          .slice(0, 3)
          .map((t) => `${t.value.length > 20 ? `${t.value.slice(0, 20)}…` : t.value} (${t.count})`)
          .join(', ')
      : '-',
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `${title}: ${profile.rows} rows, ${profile.columns.length} columns`,
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
