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

/** Linear interpolation between closest ranks (numpy's default) on sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function numericProfile(
  name: string,
  values: Float64Array,
  bins: number,
  ref?: ColumnProfile,
): ColumnProfile {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const present = new Float64Array(count);
  for (let i = 0, j = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present[j++] = values[i];
  present.sort();
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
  let distinct = 1;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0 && present[i] !== present[i - 1]) distinct++;
    sum += present[i];
  }
  const mean = sum / count;
  let ss = 0;
  for (let i = 0; i < count; i++) ss += (present[i] - mean) ** 2;
  const min = present[0];
  const max = present[count - 1];
  let edges: number[];
  if (ref?.histogram) edges = ref.histogram.edges;
  else if (min === max) edges = [min, max];
  else
    edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
  const counts = new Array<number>(edges.length - 1).fill(0);
  const last = counts.length - 1;
  for (let i = 0; i < count; i++) {
    // values outside a reference's range fall into its first or last bin
    let b = 0;
    let hi = last;
    while (b < hi) {
      const mid = (b + hi) >> 1;
      if (present[i] < edges[mid + 1]) hi = mid;
      else b = mid + 1;
    }
    counts[b]++;
  }
  return {
    ...base,
    distinct,
    min,
    max,
    mean,
    std: count > 1 ? Math.sqrt(ss / (count - 1)) : 0,
    quantiles: {
      p5: quantile(present, 0.05),
      p25: quantile(present, 0.25),
      p50: quantile(present, 0.5),
      p75: quantile(present, 0.75),
      p95: quantile(present, 0.95),
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

/** Profile every column of a Frame. */
export function profileFrame(frame: Frame, options: ProfileOptions = {}): DataProfile {
  const bins = options.bins ?? 10;
  const topK = options.top ?? 20;
  const refCols = new Map((options.reference?.columns ?? []).map((c) => [c.name, c]));
  const columns = frame.names.map((name): ColumnProfile => {
    const c = frame.col(name);
    if (c.kind === 'numeric') return numericProfile(name, c.values, bins, refCols.get(name));
    if (c.kind === 'categorical') {
      const { codes, categories } = c;
      return valueProfile(
        name,
        'categorical',
        codes.length,
        (i) => (codes[i] < 0 ? null : categories[codes[i]]),
        topK,
      );
    }
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
