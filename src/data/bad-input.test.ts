/**
 * Every bad input the data layer must name precisely: a thrown KeelError naming the file, the
 * line and the column for structural problems, or a report violation with the rule, column,
 * file lines and example values (the row quarantined) for row-level ones.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSchema, readCsv as readAuto, type ValidationReport } from './index.js';
import type { CsvOptions } from './read.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-bad-data-'));
let k = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `b${k++}.csv`);
  writeFileSync(p, content);
  return p;
}

const schema = parseSchema({
  target: { column: 'y', positive: 'yes', classes: ['no', 'yes'] },
  columns: [
    { name: 'id', type: 'string' },
    { name: 'x', type: 'number' },
    { name: 'c', type: 'category', allowed: ['a', 'b'] },
    { name: 'y', type: 'category' },
  ],
});
const head = 'id,x,c,y';

function violation(report: ValidationReport, column: string | null, rule: string) {
  const v = report.violations.find((x) => x.column === column && x.rule === rule);
  if (!v) throw new Error(`no ${column}:${rule} in ${JSON.stringify(report.violations)}`);
  return v;
}

// every case through the default reader (the strict one at these sizes) and through the DuckDB
// fast path, which must give up on each problem and leave the strict reader's answer
describe.each(['auto', 'duckdb'] as const)('with engine %s', (engine) => {
  const readCsv = (path: string, s?: Parameters<typeof readAuto>[1], o: CsvOptions = {}) =>
    readAuto(path, s, { ...o, engine });

  describe('bad input names the file, the line and the column', () => {
    it('an empty file and a header-only file', async () => {
      const empty = file('');
      await expect(readCsv(empty, schema)).rejects.toMatchObject({
        code: 'KEEL_E_FILE_EMPTY',
        message: `${empty} is empty`,
        where: { file: empty },
      });
      const headerOnly = file(`${head}\r\n`);
      await expect(readCsv(headerOnly, schema)).rejects.toMatchObject({
        code: 'KEEL_E_FILE_EMPTY',
        message: `${headerOnly} has a header but no data rows`,
      });
    });

    it('ragged rows', async () => {
      const p = file(`${head}\n1,2,a,no\n2,3\n`);
      await expect(readCsv(p, schema)).rejects.toMatchObject({
        code: 'KEEL_E_PARSE',
        message: `${p}: line 3 (data row 2) has 2 fields, the header has 4 (no value for column "c")`,
        where: { file: p, row: 3, column: 'c' },
      });
      const long = file(`${head}\n1,2,a,no,extra\n`);
      await expect(readCsv(long, schema)).rejects.toThrow(
        /line 2 \(data row 1\) has 5 fields, the header has 4/,
      );
    });

    it('a wrong delimiter', async () => {
      const p = file('id;x;c;y\n1;2;a;no\n');
      await expect(readCsv(p, schema)).rejects.toMatchObject({
        code: 'KEEL_E_PARSE',
        message: expect.stringMatching(
          /header has a single column "id;x;c;y"; is the delimiter not a comma\?/,
        ),
        where: { file: p, row: 1 },
      });
      const r = await readCsv(p, schema, { delimiter: ';' });
      expect(r.frame.nRows).toBe(1);
    });

    it('a BOM with CRLF line ends, and quoted newlines, keep the file lines right', async () => {
      const p = file(`\ufeff${head}\r\n1,2,a,no\r\n"two\r\nlines",3,b,yes\r\n3,oops,a,no\r\n`);
      const { frame, report, quarantine } = await readCsv(p, schema);
      expect(frame.names).toEqual(['id', 'x', 'c', 'y']); // no BOM in the first name
      expect(frame.toRecords()[1]).toEqual({ id: 'two\r\nlines', x: 3, c: 'b', y: 'yes' });
      // the bad row starts on line 5 of the file: the quoted field spans lines 3 and 4
      expect(violation(report, 'x', 'type')).toMatchObject({ rows: [5], examples: ['oops'] });
      expect(quarantine.lines).toEqual([5]);
    });

    it('invalid UTF-8', async () => {
      const p = file(
        Buffer.concat([Buffer.from(`${head}\n1,2,a,no\n`), Buffer.from([0x32, 0xc3, 0x28, 0x0a])]),
      );
      await expect(readCsv(p, schema)).rejects.toMatchObject({
        code: 'KEEL_E_PARSE',
        message: expect.stringMatching(/is not valid UTF-8 \(line 3, byte \d+\)/),
        where: { file: p, row: 3 },
      });
    });

    it('duplicate column names', async () => {
      const p = file('id,x,x,y\n1,2,3,no\n');
      await expect(readCsv(p, schema)).rejects.toMatchObject({
        message: `${p}: duplicate column name "x" (columns 2 and 3)`,
        where: { file: p, column: 'x' },
      });
    });

    it('an all-null column: a warning when nullable, every row quarantined when not', async () => {
      const nullable = parseSchema({
        ...schema,
        columns: schema.columns.map((c) => ({ ...c, nullable: true })),
      });
      const p = file(`${head}\n1,,a,no\n2,,b,yes\n`);
      const ok = await readCsv(p, nullable);
      expect(violation(ok.report, 'x', 'all_missing')).toMatchObject({ severity: 'warning' });
      expect(ok.report.ok).toBe(true);
      const strict = await readCsv(p, schema);
      expect(violation(strict.report, 'x', 'not_null')).toMatchObject({ count: 2, rows: [2, 3] });
      expect(violation(strict.report, null, 'rows_kept').severity).toBe('error');
    });

    it('text, Infinity and NaN in a numeric column', async () => {
      const p = file(
        `${head}\n1,ten,a,no\n2,Infinity,a,no\n3,NaN,b,yes\n4,-inf,b,yes\n5,1e400,a,no\n6,7.5,a,no\n7,1,b,yes\n`,
      );
      const { report, frame } = await readCsv(p, schema);
      expect(violation(report, 'x', 'type')).toMatchObject({
        count: 5,
        rows: [2, 3, 4, 5, 6],
        examples: ['ten', 'Infinity', 'NaN', '-inf', '1e400'],
        message: '"x" must be a finite number',
        quarantined: true,
      });
      expect(Array.from(frame.numeric('x'))).toEqual([7.5, 1]);
    });

    it('very long fields are read whole; max_length quarantines them', async () => {
      const big = 'z'.repeat(1_000_000);
      const p = file(`${head}\n"${big}",1,a,no\n2,2,b,yes\n`);
      const { frame } = await readCsv(p, schema);
      expect(String(frame.value('id', 0)).length).toBe(1_000_000);
      const limited = parseSchema({
        ...schema,
        columns: schema.columns.map((c) => (c.name === 'id' ? { ...c, max_length: 100 } : c)),
      });
      const r = await readCsv(p, limited);
      const v = violation(r.report, 'id', 'max_length');
      expect(v).toMatchObject({ rows: [2], message: '"id" must be at most 100 characters' });
      expect(v.examples[0].length).toBe(81); // 80 characters and an ellipsis
      expect(r.quarantine.reasons[0].length).toBeLessThan(120);
    });

    it('unseen categories', async () => {
      const p = file(`${head}\n1,1,a,no\n2,2,purple,yes\n3,3,b,yes\n`);
      const { report } = await readCsv(p, schema);
      expect(violation(report, 'c', 'allowed')).toMatchObject({
        rows: [3],
        examples: ['purple'],
        message: '"c" must be one of a, b',
      });
      expect(report.ok).toBe(true);
      expect(report.kept).toBe(2);
    });

    it('a missing target column', async () => {
      const p = file('id,x,c\n1,1,a\n');
      await expect(readCsv(p, schema)).rejects.toMatchObject({
        code: 'KEEL_E_TARGET',
        message: `${p} has no target column "y" (columns: id, x, c)`,
        where: { file: p, column: 'y', rule: 'target_present' },
      });
    });

    it('an unexpected target class and a missing target value', async () => {
      const p = file(`${head}\n1,1,a,no\n2,2,b,maybe\n3,3,b,\n4,4,a,yes\n`);
      const { report } = await readCsv(p, schema);
      expect(violation(report, 'y', 'target_class')).toMatchObject({
        rows: [3],
        examples: ['maybe'],
        message: 'the target "y" must be one of no, yes',
      });
      expect(violation(report, 'y', 'target_missing')).toMatchObject({ rows: [4] });
      expect([report.rows, report.kept, report.quarantined]).toEqual([4, 2, 2]);
    });
  });

  describe('header detection', () => {
    it('a file without a header line: read with header false, columns from the schema', async () => {
      const p = file('1,2,a,no\n2,x,b,yes\n3,3,b,yes\n');
      const { frame, report } = await readCsv(p, schema, { header: false });
      expect(frame.toRecords()[0]).toEqual({ id: '1', x: 2, c: 'a', y: 'no' });
      expect(report).toMatchObject({ rows: 3, kept: 2, quarantined: 1 });
      expect(violation(report, 'x', 'type').rows).toEqual([2]); // line 2: no header line to skip
      const ragged = file('1,2,a\n');
      await expect(readCsv(ragged, schema, { header: false })).rejects.toThrow(
        /line 1 \(data row 1\) has 3 fields, the header has 4 \(no value for column "y"\)/,
      );
      const inferred = await readCsv(file('1,2.5\n2,3.5\n'), undefined, { header: false });
      expect(inferred.schema.columns.map((c) => [c.name, c.type])).toEqual([
        ['column_1', 'integer'],
        ['column_2', 'number'],
      ]);
    });

    it('a header of numbers only is read as a header, with a warning that it may be data', async () => {
      const p = file('1,2,3,4\n5,6,7,8\n');
      const s = parseSchema({ columns: ['1', '2', '3', '4'].map((name) => ({ name, type: 'integer' })) });
      const { report } = await readCsv(p, s);
      expect(violation(report, null, 'header_numbers')).toMatchObject({
        severity: 'warning',
        message:
          'every header name is a number: if the first line is data, read the file without a header (--no-header)',
      });
      expect(report).toMatchObject({ ok: true, rows: 1 });
    });
  });
});
