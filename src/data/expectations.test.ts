import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSchema, profileFrame, readCsv, readTable } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-expect-'));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const rows = (xs: number[], cs: string[]) =>
  `x,c\n${xs.map((x, i) => `${x},${cs[i % cs.length]}`).join('\n')}\n`;

describe('distribution expectations', () => {
  const schema = parseSchema({
    duplicate_rows: 'allow',
    columns: [
      { name: 'x', type: 'number', expect: { mean: { min: 4, max: 6 }, std: { max: 5 }, max_psi: 0.2 } },
      { name: 'c', type: 'category', expect: { max_psi: 0.2 } },
    ],
  });
  const base = Array.from({ length: 100 }, (_, i) => i % 10);

  it('pass on data like the reference, with the profile binned on its edges', async () => {
    const ref = await readCsv(file('ref.csv', rows(base, ['a', 'b'])), schema);
    expect(ref.report.violations).toMatchObject([
      {
        rule: 'psi',
        column: 'x',
        severity: 'warning',
        message: 'no reference profile for "x": max_psi not checked',
      },
      { rule: 'psi', column: 'c', severity: 'warning' },
    ]);
    const reference = profileFrame(ref.frame);
    const same = await readCsv(file('same.csv', rows([...base].reverse(), ['b', 'a'])), schema, {
      reference,
    });
    expect(same.report).toMatchObject({ ok: true, violations: [] });
  });

  it('fail on a shifted mean, a wider spread and a drifted category mix, named by rule and column', async () => {
    const reference = profileFrame((await readCsv(file('r2.csv', rows(base, ['a', 'b'])), schema)).frame);
    const shifted = base.map((x) => x * 3);
    const p = file('drift.csv', rows(shifted, ['a', 'a', 'a', 'b']));
    const { report } = await readCsv(p, schema, { reference });
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => `${v.column}:${v.rule}:${v.severity}`)).toEqual([
      'x:mean:error',
      'x:std:error',
      'x:psi:error',
      'c:psi:error',
    ]);
    expect(report.violations[0].message).toBe('the mean of "x" is 13.5, the schema allows at most 6');
    expect(report.violations[2].message).toMatch(
      /the PSI of "x" against the reference is \d+\.\d+, the schema allows at most 0\.2/,
    );
    // the same through readTable (CSV dispatch)
    expect((await readTable(p, schema, { reference })).report.violations).toHaveLength(4);
    // a mean on a category column cannot hold
    const bad = parseSchema({ columns: [{ name: 'c', type: 'category', expect: { mean: { min: 0 } } }] });
    const r = await readCsv(file('cat.csv', 'c\na\nb\n'), bad);
    expect(r.report.violations).toMatchObject([
      { rule: 'mean', message: '"c" has no mean (not a number column, or no values)' },
    ]);
    expect(() => parseSchema({ columns: [{ name: 'x', type: 'number', expect: { medain: 1 } }] })).toThrow(
      /expect/,
    );
  });
});
