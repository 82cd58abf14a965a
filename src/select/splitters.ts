/**
 * Cross-validation splitters: seeded, deterministic partitions of row indices into folds.
 * A splitter only sees what it needs (row count, labels, groups); it never sees features, so a
 * split cannot leak them. Indices inside every fold part are sorted ascending.
 */
import { KeelError, Rng } from '../core/index.js';

/** One fold: the rows to fit on and the rows to score. */
export interface Fold {
  train: Int32Array;
  test: Int32Array;
}

/** What a splitter may look at: the number of rows, and labels or groups when it needs them. */
export interface SplitInput {
  n: number;
  y?: ArrayLike<number | string>;
  groups?: ArrayLike<number | string>;
}

export interface Splitter {
  /** A short description for tracking, e.g. `stratified_kfold(k=5, seed=42)`. */
  readonly name: string;
  split(input: SplitInput): Fold[];
}

function checkK(k: number, what: string): void {
  if (!Number.isInteger(k) || k < 2)
    throw new KeelError('KEEL_E_USAGE', `${what}: k must be a whole number >= 2, got ${k}`);
}

/** Folds from a fold number per row (-1 = never tested, always trained on). */
function foldsFromAssignment(assign: Int32Array, k: number): Fold[] {
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < assign.length; i++) (assign[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return folds;
}

/** K folds of (almost) equal size; rows are shuffled first unless `shuffle: false`. */
export function kFold(options: { k?: number; shuffle?: boolean; seed?: number } = {}): Splitter {
  const k = options.k ?? 5;
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 42;
  checkK(k, 'kFold');
  return {
    name: `kfold(k=${k}${shuffle ? `, seed=${seed}` : ', no shuffle'})`,
    split({ n }) {
      if (n < k) throw new KeelError('KEEL_E_INPUT', `kFold: ${n} rows cannot make ${k} folds`);
      const order = Int32Array.from({ length: n }, (_, i) => i);
      if (shuffle) new Rng(seed).shuffle(order);
      // The first n % k folds get one extra row, as scikit-learn does.
      const assign = new Int32Array(n);
      const base = Math.floor(n / k);
      const extra = n % k;
      let at = 0;
      for (let f = 0; f < k; f++) {
        const size = base + (f < extra ? 1 : 0);
        for (let j = 0; j < size; j++) assign[order[at++]] = f;
      }
      return foldsFromAssignment(assign, k);
    },
  };
}

/**
 * K folds that keep the class balance: each class is shuffled and dealt round-robin over the
 * folds, continuing where the previous class stopped, so fold sizes differ by at most one and
 * each class's count per fold differs by at most one.
 */
export function stratifiedKFold(options: { k?: number; seed?: number } = {}): Splitter {
  const k = options.k ?? 5;
  const seed = options.seed ?? 42;
  checkK(k, 'stratifiedKFold');
  return {
    name: `stratified_kfold(k=${k}, seed=${seed})`,
    split({ n, y }) {
      if (!y || y.length !== n)
        throw new KeelError('KEEL_E_USAGE', 'stratifiedKFold needs one label per row (y)');
      const byClass = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const c = String(y[i]);
        let list = byClass.get(c);
        if (!list) byClass.set(c, (list = []));
        list.push(i);
      }
      for (const [c, rows] of byClass)
        if (rows.length < k)
          throw new KeelError(
            'KEEL_E_TARGET',
            `stratifiedKFold: class "${c}" has ${rows.length} rows, fewer than the ${k} folds`,
          );
      const rng = new Rng(seed);
      const assign = new Int32Array(n);
      let next = 0;
      for (const c of [...byClass.keys()].sort()) {
        const rows = rng.shuffle(byClass.get(c) as number[]);
        for (const r of rows) {
          assign[r] = next;
          next = (next + 1) % k;
        }
      }
      return foldsFromAssignment(assign, k);
    },
  };
}

/** stratifiedKFold repeated with a different shuffle each time: k × repeats folds. */
export function repeatedStratifiedKFold(
  options: { k?: number; repeats?: number; seed?: number } = {},
): Splitter {
  const k = options.k ?? 5;
  const repeats = options.repeats ?? 2;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new KeelError('KEEL_E_USAGE', `repeatedStratifiedKFold: repeats must be >= 1, got ${repeats}`);
  const inner = Array.from({ length: repeats }, (_, r) =>
    stratifiedKFold({ k, seed: (seed + Math.imul(r, 0x9e3779b1)) >>> 0 }),
  );
  return {
    name: `repeated_stratified_kfold(k=${k}, repeats=${repeats}, seed=${seed})`,
    split: (input) => inner.flatMap((s) => s.split(input)),
  };
}

/**
 * K folds over groups: every row of a group lands in the same fold, so no group is on both sides.
 * Groups are placed largest first into the currently smallest fold (ties: lower fold, then the
 * group's sorted key), as scikit-learn's GroupKFold does.
 */
export function groupKFold(options: { k?: number } = {}): Splitter {
  const k = options.k ?? 5;
  checkK(k, 'groupKFold');
  return {
    name: `group_kfold(k=${k})`,
    split({ n, groups }) {
      if (!groups || groups.length !== n)
        throw new KeelError('KEEL_E_USAGE', 'groupKFold needs one group per row (groups)');
      const rowsOf = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const g = String(groups[i]);
        let list = rowsOf.get(g);
        if (!list) rowsOf.set(g, (list = []));
        list.push(i);
      }
      if (rowsOf.size < k)
        throw new KeelError('KEEL_E_INPUT', `groupKFold: ${rowsOf.size} groups cannot make ${k} folds`);
      const order = [...rowsOf.entries()].sort((a, b) =>
        b[1].length !== a[1].length ? b[1].length - a[1].length : a[0] < b[0] ? -1 : 1,
      );
      const size = new Array<number>(k).fill(0);
      const assign = new Int32Array(n);
      for (const [, rows] of order) {
        let f = 0;
        for (let j = 1; j < k; j++) if (size[j] < size[f]) f = j;
        size[f] += rows.length;
        for (const r of rows) assign[r] = f;
      }
      return foldsFromAssignment(assign, k);
    },
  };
}

/**
 * Forward-chaining folds for rows in time order (row 0 oldest): fold i tests on the i-th of k
 * consecutive blocks at the end and trains on everything before it (minus `gap` rows, and at most
 * `maxTrainSize` of the most recent rows). Test blocks are n / (k + 1) rows unless `testSize`.
 */
export function timeSeriesSplit(
  options: { k?: number; testSize?: number; gap?: number; maxTrainSize?: number } = {},
): Splitter {
  const k = options.k ?? 5;
  const gap = options.gap ?? 0;
  checkK(k, 'timeSeriesSplit');
  return {
    name: `time_series_split(k=${k}${gap ? `, gap=${gap}` : ''})`,
    split({ n }) {
      const testSize = options.testSize ?? Math.floor(n / (k + 1));
      if (testSize < 1 || n - k * testSize - gap < 1)
        throw new KeelError(
          'KEEL_E_INPUT',
          `timeSeriesSplit: ${n} rows are too few for ${k} test blocks of ${testSize} rows and a gap of ${gap}`,
        );
      const folds: Fold[] = [];
      for (let f = 0; f < k; f++) {
        const testStart = n - (k - f) * testSize;
        const trainEnd = testStart - gap;
        const trainStart = options.maxTrainSize ? Math.max(0, trainEnd - options.maxTrainSize) : 0;
        const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
        folds.push({ train: range(trainStart, trainEnd), test: range(testStart, testStart + testSize) });
      }
      return folds;
    },
  };
}
