import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../core/hash.js';
import { parseSchema, readTable, tableFormat } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-table-'));
const p1 = join(dir, 'part-1.parquet');
const p2 = join(dir, 'part-2.parquet');

beforeAll(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  // ids 0..4 in part 1, 5..7 in part 2; x is DOUBLE with a NULL and a NaN, c text, flag boolean
  await con.run(
    `COPY (SELECT CAST(i AS BIGINT) AS id, CASE WHEN i = 3 THEN NULL WHEN i = 4 THEN 'NaN'::DOUBLE ELSE i * 1.5 END::DOUBLE AS x,
            CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS c, i % 3 = 0 AS flag FROM range(5) t(i)) TO '${p1}' (FORMAT parquet)`,
  );
  await con.run(
    `COPY (SELECT CAST(i AS BIGINT) AS id, i * 1.5 AS x, 'c' AS c, false AS flag FROM range(5, 8) t(i)) TO '${p2}' (FORMAT parquet)`,
  );
  con.closeSync();
  instance.closeSync();
});

describe('readTable', () => {
  it('names formats by extension', () => {
    expect(
      ['a.csv', 'b.TSV', 'c.parquet', 'd.json', 'e.ndjson', 'f.jsonl', 'g/*.parquet', 'h.txt'].map(
        tableFormat,
      ),
    ).toEqual(['csv', 'tsv', 'parquet', 'json', 'ndjson', 'ndjson', 'parquet', null]);
  });

  it('reads Parquet written by DuckDB, keeping its numeric and boolean types when no schema is given', async () => {
    const { frame, report, schema, source } = await readTable(p1);
    expect(frame.names).toEqual(['id', 'x', 'c', 'flag']);
    expect(schema.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'integer', false],
      ['x', 'number', true],
      ['c', 'category', false],
      ['flag', 'boolean', false],
    ]);
    // inferred schemas count NaN as missing, as for CSV
    expect(schema.missing_values).toContain('NaN');
    expect(report).toMatchObject({ rows: 5, kept: 5, quarantined: 0, violations: [] });
    expect(frame.toRecords()).toEqual([
      { id: 0, x: 0, c: 'a', flag: 1 },
      { id: 1, x: 1.5, c: 'b', flag: 0 },
      { id: 2, x: 3, c: 'a', flag: 0 },
      { id: 3, x: null, c: 'b', flag: 1 },
      { id: 4, x: null, c: 'a', flag: 0 },
    ]);
    expect(source.sha256).toBe(await sha256File(p1));
  });

  it('reads a glob of Parquet files with the schema overriding the types', async () => {
    const schema = parseSchema({
      columns: [
        { name: 'id', type: 'string', role: 'id', unique: true },
        { name: 'x', type: 'number', nullable: true, max: 9 },
        { name: 'c', type: 'category', allowed: ['a', 'b'] },
        { name: 'flag', type: 'category' },
      ],
    });
    const { frame, report, quarantine } = await readTable(join(dir, 'part-*.parquet'), schema);
    expect(report.rows).toBe(8);
    expect(report.rows).toBe(report.kept + report.quarantined);
    expect(frame.col('id').kind).toBe('string');
    expect(frame.categorical('flag').categories).toEqual(['false', 'true']);
    const by = Object.fromEntries(report.violations.map((v) => [`${v.column}:${v.rule}`, v]));
    // under this schema (missing = "") the NaN double is not a finite number: quarantined, by record number
    expect(by['x:type']).toMatchObject({ rows: [5], examples: ['NaN'] });
    expect(by['x:max']).toMatchObject({ rows: [8], examples: ['10.5'] }); // x = 1.5 * id
    expect(by['c:allowed'].count).toBe(3);
    expect(quarantine.lines).toEqual([5, 6, 7, 8]);
  });

  it('reads JSON arrays and NDJSON', async () => {
    const json = join(dir, 'rows.json');
    writeFileSync(
      json,
      JSON.stringify([
        { a: 1, b: 'x' },
        { a: 2.5, b: null },
        { a: 3, b: 'y' },
      ]),
    );
    const nd = join(dir, 'rows.ndjson');
    writeFileSync(nd, '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n');
    const j = await readTable(json);
    expect(j.frame.toRecords()).toEqual([
      { a: 1, b: 'x' },
      { a: 2.5, b: null },
      { a: 3, b: 'y' },
    ]);
    const n = await readTable(
      nd,
      parseSchema({
        columns: [
          { name: 'a', type: 'integer' },
          { name: 'b', type: 'string' },
        ],
      }),
    );
    expect(n.frame.toRecords()).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
  });

  it('names the file for missing, empty and malformed input; CSV stays on the strict parser', async () => {
    await expect(readTable(join(dir, 'nope.parquet'))).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
    });
    const bad = join(dir, 'bad.parquet');
    writeFileSync(bad, 'not parquet at all');
    await expect(readTable(bad)).rejects.toMatchObject({
      code: 'KEEL_E_PARSE',
      message: expect.stringMatching(/bad\.parquet could not be read as parquet/),
    });
    const broken = join(dir, 'broken.ndjson');
    writeFileSync(broken, '{"a": 1}\n{"a": \n');
    await expect(readTable(broken)).rejects.toMatchObject({ code: 'KEEL_E_PARSE', where: { file: broken } });
    const ragged = join(dir, 'r.csv');
    writeFileSync(ragged, 'a,b\n1,2\n3\n');
    await expect(readTable(ragged)).rejects.toThrow(/line 3 \(data row 2\) has 1 fields/);
    const tsv = join(dir, 't.tsv');
    writeFileSync(tsv, 'a\tb\n1\tx y\n');
    expect((await readTable(tsv)).frame.toRecords()).toEqual([{ a: 1, b: 'x y' }]);
    await expect(readTable(join(dir, 'x.txt'))).rejects.toMatchObject({ code: 'KEEL_E_USAGE' });
  });
});

describe('a glob of CSV files', () => {
  it('reads them in name order as one table under one header, line numbers counting through', async () => {
    const g = mkdtempSync(join(tmpdir(), 'keel-csv-glob-'));
    writeFileSync(join(g, 'part-1.csv'), 'id,x\n1,1.5\n2,oops\n');
    writeFileSync(join(g, 'part-2.csv'), '\ufeffid,x\r\n3,3.5\r\n4,-1\r\n5,5'); // BOM, CRLF, no final line end
    writeFileSync(join(g, 'other.txt'), 'not,data\n');
    const schema = parseSchema({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'x', type: 'number', min: 0 },
      ],
    });
    const { frame, report, quarantine, source } = await readTable(join(g, 'part-*.csv'), schema);
    expect(frame.toRecords()).toEqual([
      { id: 1, x: 1.5 },
      { id: 3, x: 3.5 },
      { id: 5, x: 5 },
    ]);
    expect(report).toMatchObject({ rows: 5, kept: 3, quarantined: 2 });
    expect(report.violations.map((v) => [v.rule, v.rows])).toEqual([
      ['type', [3]],
      ['min', [5]],
    ]);
    expect(quarantine.lines).toEqual([3, 5]);
    const hashes = [await sha256File(join(g, 'part-1.csv')), await sha256File(join(g, 'part-2.csv'))];
    const { createHash } = await import('node:crypto');
    expect(source.sha256).toBe(createHash('sha256').update(hashes.sort().join('\n')).digest('hex'));
    // one file: its own sha256
    expect((await readTable(join(g, 'part-1*.csv'), schema)).source.sha256).toBe(
      await sha256File(join(g, 'part-1.csv')),
    );
    writeFileSync(join(g, 'part-3.csv'), 'id,y\n6,6\n');
    await expect(readTable(join(g, 'part-*.csv'), schema)).rejects.toMatchObject({
      code: 'KEEL_E_PARSE',
      message: expect.stringContaining(
        `${join(g, 'part-3.csv')}: its header differs from ${join(g, 'part-1.csv')}'s`,
      ),
    });
    await expect(readTable(join(g, 'none-*.csv'), schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: `no data file matches ${join(g, 'none-*.csv')}`,
    });
  });
});
