/**
 * Profiles: per-column statistics of a Frame (count, missing, distinct, min, max, mean, std,
 * quantiles, and a histogram or the top categories) as plain JSON. A profile is also a drift
 * reference: profile new data against it (`profileFrame(frame, { reference })` bins numbers on the
 * reference's edges) and compare with `psi` or `compareProfiles`.
 */

import { Worker } from 'node:worker_threads';
import { KeelError } from '../core/errors.js';
import type { Frame } from './frame.js';
import { numericColumnProfile } from './profile-kernel.mjs';

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

function numericProfile(
  name: string,
  values: Float64Array,
  bins: number,
  ref?: ColumnProfile,
): ColumnProfile {
  return numericColumnProfile(name, values, bins, ref?.histogram?.edges ?? null);
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
  return countedProfile(name, kind, [...freq], n - missing, missing, topK);
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
  return countedProfile(name, 'categorical', freq, codes.length - missing, missing, topK);
}

/**
 * The profile of a categorical or string column from the counts of its distinct values: the topK
 * most frequent (ties by value) and the count of the rest.
 */
function countedProfile(
  name: string,
  kind: 'categorical' | 'string',
  freq: [string, number][],
  count: number,
  missing: number,
  topK: number,
): ColumnProfile {
  const sorted = freq.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, topK).map(([v, c]) => ({ value: v, count: c }));
  return {
    name,
    kind,
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

/**
 * profileFrame with the numeric columns shared between this thread and a worker thread (the same
 * kernel), for frames of at least `minRows` rows (default 100,000; smaller ones are not worth a
 * thread). Columns are sent one at a time (one copy in flight), taken by whichever thread is free.
 * The result is identical to profileFrame's.
 */
export async function profileFrameParallel(
  frame: Frame,
  options: ProfileOptions & { minRows?: number } = {},
): Promise<DataProfile> {
  const numeric = frame.names.filter((n) => frame.col(n).kind === 'numeric');
  if (frame.nRows < (options.minRows ?? 100_000) || numeric.length < 2) return profileFrame(frame, options);
  const bins = options.bins ?? 10;
  const refCols = new Map((options.reference?.columns ?? []).map((c) => [c.name, c]));
  const edgesOf = (name: string) => refCols.get(name)?.histogram?.edges ?? null;
  const done = new Map<string, ColumnProfile>();
  const worker = new Worker(new URL('./profile-worker.mjs', import.meta.url), { execArgv: [] });
  try {
    let fail: (e: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    worker.once('error', (e) => fail(e));
    let idle: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      idle = resolve;
    });
    type Reply = { slot?: number; profile?: ColumnProfile; end?: true };
    if (numeric.every((n) => frame.numeric(n).buffer instanceof SharedArrayBuffer)) {
      // the columns are in shared memory already (the DuckDB reader puts them there): both threads
      // take the next column from a shared counter, the worker reading it in place, and neither
      // waits for the other between columns
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const columns = numeric.map((name) => ({ name, values: frame.numeric(name), edges: edgesOf(name) }));
      worker.on('message', (r: Reply) => {
        if (r.profile) done.set(r.profile.name, r.profile);
        if (r.end) idle();
      });
      worker.postMessage({ columns, bins, counter });
      for (let i = Atomics.add(counter, 0, 1); i < columns.length; i = Atomics.add(counter, 0, 1)) {
        const { name, values } = columns[i];
        done.set(name, numericProfile(name, values, bins, refCols.get(name)));
      }
    } else {
      // a column the worker takes is copied into one of two shared buffers: it has the next one
      // queued while this thread profiles its own (this thread answers only between its columns)
      const queue = [...numeric];
      const slots: Float64Array[] = [];
      let inFlight = 0;
      const send = (slot: number) => {
        const name = queue.shift();
        if (name === undefined) return;
        const values = frame.numeric(name);
        if (slots[slot] === undefined || slots[slot].length < values.length)
          slots[slot] = new Float64Array(new SharedArrayBuffer(Math.max(8, values.length * 8)));
        const view = slots[slot].subarray(0, values.length);
        view.set(values);
        inFlight++;
        worker.postMessage({ job: { name, values: view, bins, edges: edgesOf(name) }, slot });
      };
      worker.on('message', (r: Reply) => {
        inFlight--;
        if (r.profile) done.set(r.profile.name, r.profile);
        send(r.slot ?? 0);
        if (inFlight === 0 && queue.length === 0) idle();
      });
      send(0);
      send(1);
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        done.set(name, numericProfile(name, frame.numeric(name), bins, refCols.get(name)));
        await new Promise((r) => setImmediate(r));
      }
      if (inFlight === 0) idle();
    }
    const rest = profileFrame(frame.select(frame.names.filter((n) => !numeric.includes(n))), options).columns;
    for (const c of rest) done.set(c.name, c);
    await Promise.race([finished, failed]);
    return { rows: frame.nRows, columns: frame.names.map((n) => done.get(n)!) };
  } finally {
    await worker.terminate();
  }
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
