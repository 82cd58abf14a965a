import { KeelError } from '../core/errors.js';
import { Rng } from '../core/random.js';

export interface SplitIndices {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/**
 * A stratified, seeded split of row indices: each class is shuffled and cut by the fractions, so
 * every part keeps the class balance. Indices within a part are sorted.
 */
export function stratifiedSplit(
  y: ArrayLike<number | string>,
  fractions: { train: number; validation: number; test: number },
  seed = 42,
): SplitIndices {
  const total = fractions.train + fractions.validation + fractions.test;
  if (Math.abs(total - 1) > 1e-9 || fractions.train <= 0 || fractions.validation < 0 || fractions.test < 0)
    throw new KeelError(
      'KEEL_E_USAGE',
      `split fractions must be non-negative and sum to 1, got ${JSON.stringify(fractions)}`,
    );
  const byClass = new Map<string, number[]>();
  for (let i = 0; i < y.length; i++) {
    const k = String(y[i]);
    let list = byClass.get(k);
    if (!list) byClass.set(k, (list = []));
    list.push(i);
  }
  const rng = new Rng(seed);
  const parts: [number[], number[], number[]] = [[], [], []];
  for (const key of [...byClass.keys()].sort()) {
    const rows = rng.shuffle(byClass.get(key)!);
    const nTest = Math.round(rows.length * fractions.test);
    const nVal = Math.round(rows.length * fractions.validation);
    parts[2].push(...rows.slice(0, nTest));
    parts[1].push(...rows.slice(nTest, nTest + nVal));
    parts[0].push(...rows.slice(nTest + nVal));
  }
  const sorted = (a: number[]) => Int32Array.from(a).sort();
  return { train: sorted(parts[0]), validation: sorted(parts[1]), test: sorted(parts[2]) };
}
