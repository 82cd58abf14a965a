/** keel data profile, called in-process. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-profile-'));
const cwd = process.cwd();

const csv = join(dir, 'd.csv');
const schema = join(dir, 'schema.yaml');
beforeAll(() => {
  process.chdir(dir);
  writeFileSync(csv, 'x,c\n1,a\n2,b\n3,a\n4,\nbad,a\n');
  writeFileSync(
    schema,
    'columns:\n  - { name: x, type: number }\n  - { name: c, type: category, nullable: true }\n',
  );
});
afterAll(() => process.chdir(cwd));

describe('keel data profile', () => {
  it('prints a table, or JSON; with a schema, quarantined rows are left out', async () => {
    const t = await keelIn('data', 'profile', csv);
    expect(t.code).toBe(0);
    expect(t.out.split('\n')[0]).toBe(`${csv}: 5 rows, 2 columns`);
    // inferred: "bad" makes x a category
    expect(t.out).toMatch(/x +categorical +5 +0 +5/);
    const j = await keelIn('data', 'profile', csv, '--schema', schema, '--json', '--bins', '3');
    expect(j.code).toBe(0);
    const p = JSON.parse(j.out);
    expect(p.rows).toBe(4);
    expect(p.columns[0]).toMatchObject({
      name: 'x',
      count: 4,
      min: 1,
      max: 4,
      mean: 2.5,
      quantiles: { p50: 2.5 },
      histogram: { edges: [1, 2, 3, 4], counts: [1, 1, 2] },
    });
    expect(p.columns[1]).toMatchObject({
      missing: 1,
      top: [
        { value: 'a', count: 2 },
        { value: 'b', count: 1 },
      ],
    });
    expect((await keelIn('data', 'profile', csv, '--bins', '0')).code).toBe(2);
  });

  it('reads Parquet through DuckDB, for profile and validate', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    const pq = join(dir, 'd.parquet');
    await con.run(
      `COPY (SELECT i::DOUBLE AS x, 'a' AS c FROM range(1, 101) t(i)) TO '${pq}' (FORMAT parquet)`,
    );
    con.closeSync();
    instance.closeSync();
    const p = JSON.parse((await keelIn('data', 'profile', pq, '--json')).out);
    expect(p.columns[0]).toMatchObject({ name: 'x', count: 100, mean: 50.5, quantiles: { p50: 50.5 } });
    const v = await keelIn('data', 'validate', pq, '--schema', schema);
    expect(v.code).toBe(0);
    expect(v.out).toBe(`${pq}: 100 rows in, 100 kept, 0 quarantined; usable (0 error rules, 0 warnings)\n`);
  });
});
