import { describe, expect, it } from 'vitest';
import {
  categoricalColumn,
  Frame,
  formatProfile,
  generateChurn,
  numericColumn,
  profileFrame,
  profileFrameParallel,
  psi,
  stringColumn,
} from './index.js';

const frame = new Frame(
  ['x', 'c', 's', 'empty'],
  [
    numericColumn([3, 1, 2, 4, 5, 6, 7, 8, 9, 10, null]),
    categoricalColumn(['b', 'a', 'b', 'c', 'a', 'b', null, null, 'c', 'd', 'e']),
    stringColumn(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10', null]),
    numericColumn(new Array(11).fill(null)),
  ],
);

describe('profileFrame', () => {
  it('numbers: count, missing, distinct, min, max, mean, sample std, quantiles and a histogram', () => {
    const [x] = profileFrame(frame).columns;
    expect(x).toMatchObject({
      name: 'x',
      kind: 'numeric',
      count: 10,
      missing: 1,
      distinct: 10,
      min: 1,
      max: 10,
    });
    expect(x.mean).toBe(5.5);
    expect(x.std).toBeCloseTo(Math.sqrt(82.5 / 9), 12); // numpy.std(ddof=1) = 3.0276503540974917
    // numpy.percentile's default (linear) on 1..10
    expect(x.quantiles).toEqual({ p5: 1.45, p25: 3.25, p50: 5.5, p75: 7.75, p95: expect.closeTo(9.55, 12) });
    expect(x.histogram?.edges).toHaveLength(11);
    expect(x.histogram?.edges[0]).toBe(1);
    expect(x.histogram?.edges[10]).toBe(10);
    expect(x.histogram?.counts).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(x.top).toBeNull();
  });

  it('categories and strings: top values by count (ties by value) and the rest; all-missing columns', () => {
    const p = profileFrame(frame, { top: 2 });
    expect(p.rows).toBe(11);
    expect(p.columns[1]).toMatchObject({
      kind: 'categorical',
      count: 9,
      missing: 2,
      distinct: 5,
      top: [
        { value: 'b', count: 3 },
        { value: 'a', count: 2 },
      ],
      other: 4,
      mean: null,
      histogram: null,
    });
    expect(p.columns[2]).toMatchObject({ kind: 'string', count: 10, distinct: 10, other: 8 });
    expect(p.columns[3]).toMatchObject({
      count: 0,
      missing: 11,
      min: null,
      quantiles: null,
      histogram: null,
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p); // plain JSON
    const text = formatProfile(p, 'f.csv');
    expect(text.split('\n')[0]).toBe('f.csv: 11 rows, 4 columns');
    expect(text).toMatch(/x +numeric +10 +1 +10 +1 +10 +5\.5 +3\.0277 +5\.5 +-/);
    expect(text).toMatch(/c +categorical +9 +2 +5 .* b \(3\), a \(2\)/);
  });

  it('is a drift reference: PSI 0 for the same data, large for shifted data, exact on a known case', () => {
    const ref = profileFrame(generateChurn({ rows: 2000, seed: 1 }));
    const same = profileFrame(generateChurn({ rows: 2000, seed: 1 }), { reference: ref });
    const other = profileFrame(generateChurn({ rows: 2000, seed: 2 }), { reference: ref });
    const col = (p: typeof ref, n: string) => p.columns.find((c) => c.name === n)!;
    expect(psi(col(ref, 'tenure'), col(same, 'tenure'))).toBe(0);
    expect(psi(col(ref, 'contract'), col(same, 'contract'))).toBe(0);
    expect(psi(col(ref, 'tenure'), col(other, 'tenure'))).toBeLessThan(0.05); // same generator, new seed
    // shift tenure by +24 months: binned on the reference's edges, the tail lands in the last bin
    const t = generateChurn({ rows: 2000, seed: 1 });
    const shifted = t.withColumn('tenure', numericColumn(Array.from(t.numeric('tenure'), (v) => v + 24)));
    const drift = profileFrame(shifted, { reference: ref });
    expect(col(drift, 'tenure').histogram?.edges).toEqual(col(ref, 'tenure').histogram?.edges);
    expect(psi(col(ref, 'tenure'), col(drift, 'tenure'))).toBeGreaterThan(0.2);
    // two bins, 50/50 against 90/10: 0.4 ln 1.8 + 0.4 ln 5
    const a = new Frame(['v'], [categoricalColumn(['p', 'q', 'p', 'q', 'p', 'q', 'p', 'q', 'p', 'q'])]);
    const b = new Frame(['v'], [categoricalColumn(['p', 'p', 'p', 'p', 'p', 'p', 'p', 'p', 'p', 'q'])]);
    expect(psi(profileFrame(a).columns[0], profileFrame(b).columns[0])).toBeCloseTo(
      0.4 * Math.log(1.8) + 0.4 * Math.log(5),
      12,
    );
    // numbers binned on other edges cannot be compared
    expect(() => psi(col(ref, 'tenure'), col(profileFrame(shifted), 'tenure'))).toThrow(/profile it with/);
  });
});

describe('profile statistics on large columns', () => {
  // numpy-style quantiles and distinct counts from a full sort: the reference
  function reference(values: number[]) {
    const s = Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
    const q = (p: number) => {
      const pos = (s.length - 1) * p;
      const lo = Math.floor(pos);
      const hi = Math.ceil(pos);
      return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    };
    let distinct = s.length ? 1 : 0;
    for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]) distinct++;
    return { distinct, quantiles: { p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) } };
  }
  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const cases: Record<string, number[]> = {
    uniform: Array.from({ length: 50_000 }, () => rand() * 100 - 50),
    ties: Array.from({ length: 30_000 }, () => Math.floor(rand() * 7)),
    skewed: Array.from({ length: 40_000 }, (_, i) => (i === 0 ? 1e12 : rand() < 0.9 ? 0 : rand())),
    heavy: Array.from({ length: 20_000 }, () => Math.exp(rand() * 40) * (rand() < 0.5 ? -1 : 1)),
    zeros: Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 0 : -0)),
    missing: Array.from({ length: 9_000 }, (_, i) => (i % 3 ? Number.NaN : i)),
  };
  for (const [name, values] of Object.entries(cases))
    it(`exact quantiles and distinct counts (${name})`, () => {
      const p = profileFrame(new Frame(['x'], [numericColumn(values)])).columns[0];
      expect({ distinct: p.distinct, quantiles: p.quantiles }).toEqual(reference(values));
    });
});

describe('profileFrameParallel', () => {
  it('gives exactly profileFrame, with half the numeric columns on a worker thread', async () => {
    const n = 3000;
    const cols = ['a', 'b', 'c', 'd'];
    const frame = new Frame(
      [...cols, 'k'],
      [
        ...cols.map((_, j) =>
          numericColumn(Array.from({ length: n }, (_, i) => (i % 7 === j ? null : Math.sin(i * (j + 1))))),
        ),
        categoricalColumn(Array.from({ length: n }, (_, i) => `k${i % 5}`)),
      ],
    );
    const reference = profileFrame(frame, { bins: 7 });
    expect(await profileFrameParallel(frame, { bins: 7, minRows: 1 })).toEqual(reference);
    const part = frame.take(Int32Array.from({ length: 500 }, (_, i) => i * 3));
    const drift = await profileFrameParallel(part, { reference, minRows: 1 });
    expect(drift).toEqual(profileFrame(part, { reference }));
    expect(drift.columns[1].histogram?.edges).toEqual(reference.columns[1].histogram?.edges);
  });

  it('gives exactly profileFrame with columns in shared memory, taken by both threads from a counter', async () => {
    const n = 4000;
    const names = ['a', 'b', 'c', 'd', 'e'];
    const shared = (i: number) => {
      const v = new Float64Array(new SharedArrayBuffer(n * 8));
      for (let r = 0; r < n; r++)
        v[r] = r % 11 === i ? Number.NaN : Math.round(Math.cos(r * (i + 2)) * 1e6) / 1e4;
      return v;
    };
    const frame = new Frame(
      [...names, 'k'],
      [
        ...names.map((_, i) => ({ kind: 'numeric' as const, values: shared(i) })),
        categoricalColumn(Array.from({ length: n }, (_, i) => `k${i % 3}`)),
      ],
    );
    const reference = profileFrame(frame);
    expect(await profileFrameParallel(frame, { minRows: 1 })).toEqual(reference);
    expect(await profileFrameParallel(frame, { reference, minRows: 1 })).toEqual(
      profileFrame(frame, { reference }),
    );
  });
});

describe('exact distinct counts and quantiles without a full sort', () => {
  it('equal those of a full sort on decimals, raw doubles, skewed, missing and constant columns', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const n = 50_000;
    const columns: Record<string, number[]> = {
      decimals6: Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 8e6) / 1e6),
      integers: Array.from({ length: n }, () => Math.floor(rnd() * 40) - 20),
      raw: Array.from({ length: n }, () => rnd() * 3 - 1),
      skewed: Array.from({ length: n }, (_, i) => (i === 7 ? 1e12 : Math.round(rnd() * 1000) / 100)),
      missing: Array.from({ length: n }, () => (rnd() < 0.3 ? Number.NaN : Math.round(rnd() * 500) / 10)),
      constant: new Array(n).fill(2.5),
      signedZeros: Array.from({ length: n }, (_, i) => [-0, 0, 1.5][i % 3]),
      // min 0, max 1: every tenth is an edge
      onEdges: Array.from({ length: n }, (_, i) => (i < 2 ? i : Math.floor(rnd() * 11) / 10)),
    };
    const names = Object.keys(columns);
    const profile = profileFrame(
      new Frame(
        names,
        names.map((k) => numericColumn(columns[k])),
      ),
    );
    for (const [i, name] of names.entries()) {
      const present = Float64Array.from(columns[name].filter((v) => !Number.isNaN(v))).sort();
      const q = (p: number) => {
        const pos = (present.length - 1) * p;
        const lo = present[Math.floor(pos)];
        const hi = present[Math.ceil(pos)];
        return lo + (hi - lo) * (pos - Math.floor(pos));
      };
      const c = profile.columns[i];
      expect(c.distinct, name).toBe(new Set(present).size);
      expect(c.quantiles, name).toEqual({
        p5: q(0.05),
        p25: q(0.25),
        p50: q(0.5),
        p75: q(0.75),
        p95: q(0.95),
      });
      // the histogram by its definition: e[b] <= v < e[b + 1], the last bin closed
      const edges = c.histogram?.edges ?? [];
      const counts = new Array(edges.length - 1).fill(0);
      for (const v of present) {
        let b = 0;
        while (b < counts.length - 1 && v >= edges[b + 1]) b++;
        counts[b]++;
      }
      expect(c.histogram?.counts, name).toEqual(counts);
    }
  });
});

describe('decimals as integer keys: wide ranges grouped by key range, narrow ones counted per key', () => {
  // the definitions: quantiles and distinct count from a full sort, bins by e[b] <= v < e[b + 1]
  function byDefinition(values: number[], edges: number[]) {
    const present = Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
    const q = (p: number) => {
      const pos = (present.length - 1) * p;
      const lo = present[Math.floor(pos)];
      const hi = present[Math.ceil(pos)];
      return lo + (hi - lo) * (pos - Math.floor(pos));
    };
    const counts = new Array(edges.length - 1).fill(0);
    for (const v of present) {
      let b = 0;
      while (b < counts.length - 1 && v >= edges[b + 1]) b++;
      counts[b]++;
    }
    return {
      distinct: new Set(present).size,
      quantiles: { p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) },
      counts,
    };
  }
  let seed = 99;
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const n = 60_000;
  const columns: Record<string, number[]> = {
    // ~3.4e6 keys: ~420 ranges
    normalish: Array.from({ length: n }, () => Math.round((rnd() + rnd() + rnd() - 1.5) * 1.15e6) / 1e6),
    // most values in one range: zeros and -0s, a few wide ones
    zerosAndWide: Array.from({ length: n }, (_, i) =>
      i % 10 === 0 ? Math.round((rnd() - 0.5) * 1e6) / 1e3 : i % 3 === 0 ? -0 : 0,
    ),
    // values on a reference's edges (0, 1, 2.5, 10), and missing ones
    onEdges: Array.from({ length: n }, (_, i) =>
      i < 2
        ? i * 10
        : rnd() < 0.2
          ? Number.NaN
          : Math.round(Math.floor(rnd() * 101) * 1e3 + (rnd() < 0.5 ? 1 : 0)) / 1e4,
    ),
    // a narrow range (counted per key), with -0s, missing values and values on the edges
    narrow: Array.from({ length: n }, (_, i) =>
      i % 7 === 0 ? Number.NaN : i % 5 === 0 ? -0 : Math.floor(rnd() * 25) / 2 - 2,
    ),
    // decimals in the first 64 values, then one that is not: the general path
    notDecimal: Array.from({ length: n }, (_, i) => (i === n - 1 ? Math.PI : Math.round(rnd() * 1e6) / 1e4)),
  };
  for (const [name, values] of Object.entries(columns))
    it(`equal the definitions (${name}), on their own edges and on a reference's`, () => {
      const frame = new Frame(['x'], [numericColumn(values)]);
      const own = profileFrame(frame).columns[0];
      const ownDef = byDefinition(values, own.histogram?.edges ?? []);
      expect({ distinct: own.distinct, quantiles: own.quantiles, counts: own.histogram?.counts }).toEqual(
        ownDef,
      );
      // a reference's edges, some outside the values' range
      const edges = [-3, -1, -0.5, 0, 0.25, 1, 2.5, 7.001, 10, 12];
      const reference = {
        rows: 1,
        columns: [{ ...own, histogram: { edges, counts: new Array(9).fill(0) } }],
      };
      const drift = profileFrame(frame, { reference }).columns[0];
      expect(drift.histogram?.counts).toEqual(byDefinition(values, edges).counts);
      expect(drift.distinct).toBe(ownDef.distinct);
      // -0 sorts before 0, as in a typed-array sort: the signs of zero quantiles match too
      for (const [k, v] of Object.entries(ownDef.quantiles))
        expect(Object.is(own.quantiles?.[k as keyof typeof ownDef.quantiles], v), k).toBe(true);
    });
});
