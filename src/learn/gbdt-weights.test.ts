import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { GradientBoostingClassifier } from './gbdt.js';
import { rocAuc } from './metrics.js';
import type { Matrix } from './types.js';

/** About 10% positives, driven by two of four features. */
function imbalanced(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const F = 4;
  const data = new Float64Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) data[i * F + j] = rng.normal();
    y[i] = data[i * F] + 0.7 * data[i * F + 1] + 0.5 * rng.normal() > 1.7 ? 1 : 0;
  }
  return { X: { data, nRows: n, nCols: F, names: ['a', 'b', 'c', 'd'] }, y };
}

describe('GradientBoostingClassifier scalePosWeight', () => {
  const train = imbalanced(4000, 1);
  const test = imbalanced(2000, 2);
  const params = { nEstimators: 40, maxDepth: 3 };
  const plain = new GradientBoostingClassifier(params).fit(train.X, train.y);
  const pos = train.y.reduce((a, b) => a + b, 0);
  const ratio = (train.y.length - pos) / pos;
  const weighted = new GradientBoostingClassifier({ ...params, scalePosWeight: ratio }).fit(train.X, train.y);

  it('weights positives: probabilities rise, recall at 0.5 rises, the ranking stays as good', () => {
    expect(pos / train.y.length).toBeGreaterThan(0.05);
    expect(pos / train.y.length).toBeLessThan(0.2);
    const p0 = plain.predictProba(test.X);
    const p1 = weighted.predictProba(test.X);
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(p1)).toBeGreaterThan(mean(p0) * 2);
    const recall = (p: Float64Array) => {
      let tp = 0;
      let P = 0;
      for (let i = 0; i < p.length; i++)
        if (test.y[i] === 1) {
          P++;
          if (p[i] >= 0.5) tp++;
        }
      return tp / P;
    };
    expect(recall(p1)).toBeGreaterThan(recall(p0) + 0.1);
    expect(Math.abs(rocAuc(test.y, p1) - rocAuc(test.y, p0))).toBeLessThan(0.02);
    // the base score is the weighted prior: log-odds of pos*w / (pos*w + neg) = 0
    expect(weighted.baseScore_).toBeCloseTo(0, 12);
  });

  it('scalePosWeight 1 is exactly the unweighted model; old documents read as 1; bad values are named', () => {
    const one = new GradientBoostingClassifier({ ...params, scalePosWeight: 1 }).fit(train.X, train.y);
    expect(Array.from(one.predictProba(test.X))).toEqual(Array.from(plain.predictProba(test.X)));
    const doc = weighted.toJSON() as { params: Record<string, unknown> };
    const back = GradientBoostingClassifier.fromJSON(JSON.parse(JSON.stringify(doc)));
    expect(Array.from(back.predictProba(test.X))).toEqual(Array.from(weighted.predictProba(test.X)));
    const old = plain.toJSON() as { params: Record<string, unknown> };
    delete old.params.scalePosWeight;
    expect(GradientBoostingClassifier.fromJSON(JSON.parse(JSON.stringify(old))).params.scalePosWeight).toBe(
      1,
    );
    expect(() => new GradientBoostingClassifier({ scalePosWeight: 0 }).fit(train.X, train.y)).toThrow(
      /scalePosWeight must be > 0/,
    );
  });
});

describe('GradientBoostingClassifier colsampleBytree', () => {
  const train = imbalanced(3000, 5);
  it('lets each tree split on its own draw of features only, deterministically, without losing the signal', () => {
    const m = new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 3, colsampleBytree: 0.5 }).fit(
      train.X,
      train.y,
    );
    const used = m.trees_.map((t) => new Set(Array.from(t.feature).filter((f) => f >= 0)));
    for (const u of used) expect(u.size).toBeLessThanOrEqual(2);
    // different trees draw different subsets
    expect(new Set(used.map((u) => [...u].sort().join(','))).size).toBeGreaterThan(1);
    const again = new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 3, colsampleBytree: 0.5 }).fit(
      train.X,
      train.y,
    );
    expect(Array.from(again.predictProba(train.X))).toEqual(Array.from(m.predictProba(train.X)));
    const test = imbalanced(2000, 6);
    expect(rocAuc(test.y, m.predictProba(test.X))).toBeGreaterThan(0.9);
    const back = GradientBoostingClassifier.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(back.params.colsampleBytree).toBe(0.5);
    expect(() => new GradientBoostingClassifier({ colsampleBytree: 0 }).fit(train.X, train.y)).toThrow(
      /colsampleBytree must be in \(0, 1\]/,
    );
  });
});
