import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../core/hash.js';
import { parseCsv } from './csv.js';
import {
  assertValid,
  churnCsv,
  churnSchema,
  formatReport,
  generateChurn,
  loadSchema,
  parseSchema,
  quarantineCsv,
  readCsv,
  renderReportHtml,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-'));
let k = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${k++}.csv`);
  writeFileSync(p, content);
  return p;
}

const schema = parseSchema({
  target: { column: 'y', positive: 'Yes', classes: ['No', 'Yes'] },
  columns: [
    { name: 'id', type: 'string', unique: true, role: 'id' },
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'income', type: 'number', nullable: true },
    { name: 'plan', type: 'category', allowed: ['basic', 'pro'] },
    { name: 'active', type: 'boolean' },
    { name: 'y', type: 'category' },
  ],
});

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, quoted newlines, CRLF and a BOM', () => {
    const p = parseCsv('\ufeffa,b\r\n1,"x, ""y""\r\nz"\r\n2,w\r\n', 'f.csv');
    expect(p.header).toEqual(['a', 'b']);
    expect(p.rows).toEqual([
      ['1', 'x, "y"\r\nz'],
      ['2', 'w'],
    ]);
    expect(p.lines).toEqual([2, 4]);
  });
  it('refuses ragged rows, unterminated quotes, duplicate and empty header names, naming the line', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'r.csv')).toThrow(
      'r.csv: line 3 (data row 2) has 1 fields, the header has 2 (no value for column "b")',
    );
    expect(() => parseCsv('a,b\n1,"oops\n', 'q.csv')).toThrow(/unterminated quoted field starting on line 2/);
    expect(() => parseCsv('a,a\n1,2\n', 'd.csv')).toThrow(/duplicate column name "a"/);
    expect(() => parseCsv('a,\n1,2\n', 'e.csv')).toThrow(/column 2 of the header has no name/);
    expect(() => parseCsv('a;b;c\n1;2;3\n', 's.csv')).toThrow(/delimiter/);
    expect(parseCsv('a;b\n1;2\n', 's.csv', ';').rows).toEqual([['1', '2']]);
  });
});

describe('readCsv', () => {
  it('types columns by the schema, quarantines rows breaking row-level rules, reports every violation', async () => {
    const p = file(
      'id,age,income,plan,active,y\n' +
        'a,30,100.5,basic,yes,No\n' +
        'b,abc,,pro,no,Yes\n' +
        'c,150,20,gold,maybe,Yes\n' +
        'a,-1,1e3,basic,TRUE,Maybe\n' +
        'd,,5,pro,0,No\n' +
        'e,40,,pro,1,Yes\n',
    );
    const { frame, report, quarantine } = await readCsv(p, schema);
    // rows in = rows kept + rows quarantined
    expect([report.rows, report.kept, report.quarantined]).toEqual([6, 2, 4]);
    expect(frame.nRows).toBe(2);
    expect(frame.toRecords()).toEqual([
      { id: 'a', age: 30, income: 100.5, plan: 'basic', active: 1, y: 'No' },
      { id: 'e', age: 40, income: null, plan: 'pro', active: 1, y: 'Yes' },
    ]);
    expect(report.ok).toBe(true);
    const by = Object.fromEntries(report.violations.map((v) => [`${v.column}:${v.rule}`, v]));
    // rows are file lines: the header is line 1
    expect(by['age:type']).toMatchObject({
      count: 1,
      rows: [3],
      examples: ['abc'],
      severity: 'warning',
      quarantined: true,
    });
    expect(by['age:max']).toMatchObject({ rows: [4], examples: ['150'] });
    expect(by['age:min']).toMatchObject({ rows: [5] });
    expect(by['age:not_null']).toMatchObject({ rows: [6] });
    expect(by['plan:allowed']).toMatchObject({ examples: ['gold'] });
    expect(by['active:type']).toMatchObject({ examples: ['maybe'] });
    expect(by['id:unique']).toMatchObject({ rows: [5], examples: ['a'] });
    expect(by['y:target_class']).toMatchObject({ rows: [5], examples: ['Maybe'] });
    expect(by['income:not_null']).toBeUndefined();
    expect(quarantine.lines).toEqual([3, 4, 5, 6]);
    expect(quarantine.rows[0]).toEqual(['b', 'abc', '', 'pro', 'no', 'Yes']);
    expect(quarantine.reasons[2]).toBe('id: unique "a"; age: min "-1"; y: target_class "Maybe"');
    const csv = quarantineCsv(quarantine);
    expect(csv.split('\n')[0]).toBe('id,age,income,plan,active,y,_keel_line,_keel_reason');
    expect(csv.split('\n')[1]).toBe('b,abc,,pro,no,Yes,3,"age: type ""abc"""');
    const text = formatReport(report, p);
    expect(text).toContain('6 rows in, 2 kept, 4 quarantined; usable');
    expect(text).toMatch(/warning +type +age +1 +quarantine +3 +"abc" +"age" must be an integer/);
    const html = renderReportHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain(
      '<td>age</td><td class="n">1</td><td>quarantine</td><td>3</td><td>&#34;abc&#34;</td>',
    );
  });

  it('rejects the table on table-level rules and names the quarantined rows when asserting', async () => {
    const p = file('id,age,income,plan,active,y\na,30,1,basic,yes,No\nb,abc,,pro,no,Yes\n');
    const { report } = await readCsv(p, schema);
    expect(report.ok).toBe(false);
    expect(report.violations.find((v) => v.rule === 'target_classes')).toMatchObject({
      severity: 'error',
      column: 'y',
    });
    expect(() => assertValid(report, p)).toThrow(
      /failed validation: column "y" \[target_classes\] .*1 of 2 rows quarantined: column "age" \[type\] 1 row \(first: line 3, value "abc"\)/,
    );
    try {
      assertValid(report, p);
    } catch (e) {
      expect((e as { where: unknown }).where).toMatchObject({ file: p, column: 'y', rule: 'target_classes' });
    }
  });

  it('checks regex, max_length, duplicate rows, row counts and max_quarantined', async () => {
    const s = parseSchema({
      columns: [
        { name: 'code', type: 'string', regex: '[A-Z]{2}-\\d+' },
        { name: 'note', type: 'string', nullable: true, max_length: 5 },
        { name: 'x', type: 'number', nullable: true },
      ],
      rows: { min: 3 },
      duplicate_rows: 'quarantine',
      max_quarantined: 0.5,
    });
    const p = file('code,note,x\nAB-1,ok,1\nab-2,ok,2\nAB-3,too long,3\nAB-1,ok,1\nCD-9,,\n');
    const { report, quarantine, frame } = await readCsv(p, s);
    const by = Object.fromEntries(report.violations.map((v) => [`${v.column}:${v.rule}`, v]));
    expect(by['code:regex']).toMatchObject({ rows: [3], examples: ['ab-2'], quarantined: true });
    expect(by['note:max_length']).toMatchObject({ rows: [4], quarantined: true });
    expect(by['null:duplicate_row']).toMatchObject({ rows: [5], quarantined: true });
    expect(by['x:all_missing']).toBeUndefined();
    expect(quarantine.reasons).toEqual([
      'code: regex "ab-2"',
      'note: max_length "too long"',
      'duplicate_row',
    ]);
    expect(frame.nRows).toBe(2);
    expect(by['null:row_count']).toMatchObject({
      severity: 'error',
      message: '2 rows kept, the schema wants at least 3',
    });
    expect(by['null:max_quarantined']).toMatchObject({ severity: 'error' });
    expect(report.ok).toBe(false);
    // duplicate rows are a warning by default, an error on request
    const dupes = file('code,note,x\nAB-1,,1\nAB-1,,1\nAB-2,,\n');
    const warn = await readCsv(
      dupes,
      parseSchema({ ...s, duplicate_rows: undefined, max_quarantined: undefined }),
    );
    expect(warn.report.violations).toMatchObject([
      { rule: 'all_missing', column: 'note', severity: 'warning', message: '"note" is missing in every row' },
      { rule: 'duplicate_row', severity: 'warning', rows: [3] },
    ]);
    expect(warn.report.kept).toBe(3);
    const err = await readCsv(dupes, parseSchema({ ...s, duplicate_rows: 'error' }));
    expect(err.report.ok).toBe(false);
    expect(() => parseSchema({ columns: [{ name: 'a', type: 'string', regex: '(' }] })).toThrow(
      /columns\.0\.regex: not a valid regular expression/,
    );
  });

  it('gives clear errors for a missing, empty, header-only, invalid UTF-8 file and missing columns', async () => {
    await expect(readCsv(join(dir, 'nope.csv'), schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: expect.stringContaining('nope.csv'),
    });
    await expect(readCsv(file(''), schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_EMPTY',
      message: expect.stringMatching(/is empty/),
    });
    await expect(readCsv(file('\n\n'), schema)).rejects.toMatchObject({ code: 'KEEL_E_FILE_EMPTY' });
    await expect(readCsv(file('id,age,income,plan,active,y\n'), schema)).rejects.toThrow(
      /has a header but no data rows/,
    );
    await expect(readCsv(file(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a])), schema)).rejects.toThrow(
      /not valid UTF-8 \(line 2/,
    );
    await expect(readCsv(file('id,age,income,plan,active\na,1,2,pro,yes\n'), schema)).rejects.toMatchObject({
      code: 'KEEL_E_TARGET',
      message: expect.stringContaining('no target column "y"'),
    });
    await expect(readCsv(file('id,income,plan,active,y\na,2,pro,yes,No\n'), schema)).rejects.toThrow(
      /lacks the column "age"/,
    );
    await expect(readCsv(dir, schema)).rejects.toThrow(/is a directory/);
  });

  it('warns about columns the schema does not know and fails a target missing one class', async () => {
    const { report } = await readCsv(file('id,age,income,plan,active,y,extra\na,1,2,pro,yes,No,x\n'), schema);
    expect(report.violations.map((v) => `${v.column}:${v.rule}:${v.severity}`)).toEqual([
      'extra:unexpected_column:warning',
      'y:target_classes:error',
    ]);
  });

  it('infers a schema when none is given', async () => {
    const { schema: inferred, frame } = await readCsv(file('n,x,c,s\n1,1.5,a,u1\n2,NA,b,u2\n3,2,a,u3\n'));
    expect(inferred.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['n', 'integer', false],
      ['x', 'number', true],
      ['c', 'category', false],
      ['s', 'category', false],
    ]);
    expect(frame.numeric('x')[1]).toBeNaN();
  });
});

describe('synthetic churn', () => {
  it('is deterministic for a seed, ~25% positive, with a few missing values, and valid under its schema', async () => {
    expect(sha256(churnCsv({ rows: 2000, seed: 3 }))).toBe(sha256(churnCsv({ rows: 2000, seed: 3 })));
    expect(sha256(churnCsv({ rows: 2000, seed: 3 }))).not.toBe(sha256(churnCsv({ rows: 2000, seed: 4 })));
    const p = file(churnCsv({ rows: 5000, seed: 1 }));
    const { frame, report } = await readCsv(p, churnSchema());
    expect(report.ok).toBe(true);
    expect(report.violations).toEqual([]);
    const y = frame.categorical('churn');
    const rate = y.codes.reduce((a, c) => a + c, 0) / frame.nRows;
    expect(rate).toBeGreaterThan(0.18);
    expect(rate).toBeLessThan(0.32);
    const missing = Array.from(frame.numeric('total_charges')).filter(Number.isNaN).length;
    expect(missing).toBeGreaterThan(0);
    expect(missing).toBeLessThan(frame.nRows * 0.05);
    const f = generateChurn({ rows: 5000, seed: 1 });
    expect(f.toRecords(0, 3)).toEqual(frame.toRecords(0, 3));
  });
});

const telco = [
  process.env.KEEL_SHARED_DIR,
  join(import.meta.dirname, '..', '..', '..', 'shared'),
  '/work/shared',
]
  .filter((r): r is string => Boolean(r))
  .map((r) => join(r, 'data', 'telco_churn.csv'))
  .find((p) => existsSync(p));
if (!telco && process.env.CI) throw new Error('the shared Telco CSV is missing (set KEEL_SHARED_DIR)');
describe.skipIf(!telco)('the real Telco data', () => {
  it('reads 7043 rows with 11 missing TotalCharges and no violations', async () => {
    const schemaPath = join(import.meta.dirname, '..', '..', 'examples', 'telco', 'schema.yaml');
    const { frame, report, source } = await readCsv(telco!, loadSchema(schemaPath));
    expect(frame.nRows).toBe(7043);
    expect(Array.from(frame.numeric('TotalCharges')).filter(Number.isNaN).length).toBe(11);
    expect(frame.categorical('Churn').categories).toEqual(['No', 'Yes']);
    expect(report.violations).toEqual([]);
    expect(source.sha256).toBe('16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91');
  });
});
