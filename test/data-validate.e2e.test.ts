/**
 * keel data validate: exit codes (0 usable, 1 rejected, 2 usage), --strict, --json, the
 * quarantine file and the HTML page. Called in-process (fast); one subprocess proves the binary.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keel } from './cli.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-validate-'));
const cwd = process.cwd();

const schema = join(dir, 'schema.yaml');
const clean = join(dir, 'clean.csv');
const dirty = join(dir, 'dirty.csv');
const broken = join(dir, 'broken.csv');

beforeAll(() => {
  process.chdir(dir);
  writeFileSync(
    schema,
    [
      'target: { column: y, positive: "yes", classes: ["no", "yes"] }',
      'columns:',
      '  - { name: id, type: string, unique: true, regex: "C\\\\d+", role: id }',
      '  - { name: x, type: number, min: 0 }',
      '  - { name: c, type: category, allowed: [a, b] }',
      '  - { name: y, type: category }',
      'rows: { min: 2 }',
      '',
    ].join('\n'),
  );
  writeFileSync(clean, 'id,x,c,y\nC1,1,a,no\nC2,2,b,yes\nC3,3,a,yes\n');
  writeFileSync(
    dirty,
    'id,x,c,y\nC1,1,a,no\nC2,-5,b,yes\nC3,3,"a, b",yes\nC1,4,a,no\nD9,5,b,yes\nC6,6,b,maybe\nC7,7,a,yes\n',
  );
  writeFileSync(broken, 'id,x,c,y\nC1,1,a,no\nC2,2\n');
});
afterAll(() => process.chdir(cwd));

describe('keel data validate', () => {
  it('clean data: exit 0, no violations', async () => {
    const r = await keelIn('data', 'validate', clean, '--schema', schema);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${clean}: 3 rows in, 3 kept, 0 quarantined; usable (0 error rules, 0 warnings)\n`);
  });

  it('quarantined rows: exit 0 with the report, the quarantine CSV and the HTML page; --strict exits 1', async () => {
    const q = join(dir, 'quarantine.csv');
    const html = join(dir, 'report.html');
    const r = await keelIn('data', 'validate', dirty, '--schema', schema, '--quarantine', q, '--html', html);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe(`${dirty}: 7 rows in, 2 kept, 5 quarantined; usable (0 error rules, 5 warnings)`);
    expect(r.out).toMatch(/warning +min +x +1 +quarantine +3 +"-5" +"x" must be >= 0/);
    expect(r.out).toMatch(/warning +allowed +c +1 +quarantine +4 +"a, b"/);
    expect(r.out).toMatch(/warning +unique +id +1 +quarantine +5 +"C1"/);
    expect(r.out).toMatch(/warning +regex +id +1 +quarantine +6 +"D9" +"id" must match \/C\\d\+\//);
    expect(r.out).toMatch(/warning +target_class +y +1 +quarantine +7 +"maybe"/);
    expect(readFileSync(q, 'utf8')).toBe(
      [
        'id,x,c,y,_keel_line,_keel_reason',
        'C2,-5,b,yes,3,"x: min ""-5"""',
        'C3,3,"a, b",yes,4,"c: allowed ""a, b"""',
        'C1,4,a,no,5,"id: unique ""C1"""',
        'D9,5,b,yes,6,"id: regex ""D9"""',
        'C6,6,b,maybe,7,"y: target_class ""maybe"""',
        '',
      ].join('\n'),
    );
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<dt>rows quarantined</dt><dd>5</dd>');
    expect(page).not.toMatch(/<script|<link|src=/);

    const strict = await keelIn('data', 'validate', dirty, '--schema', schema, '--strict', '--json');
    expect(strict.code).toBe(1);
    const report = JSON.parse(strict.out);
    expect(report).toMatchObject({ ok: false, rows: 7, kept: 2, quarantined: 5, file: dirty });
    expect(report.rows).toBe(report.kept + report.quarantined);
    expect(report.violations.every((v: { severity: string }) => v.severity === 'error')).toBe(true);
    expect((await keelIn('data', 'validate', clean, '--schema', schema, '--strict')).code).toBe(0);
  });

  it('rejected data exits 1; a structural problem exits 1 naming file, line and column; usage exits 2', async () => {
    const few = join(dir, 'few.csv');
    writeFileSync(few, 'id,x,c,y\nC1,1,a,no\nC2,-1,b,yes\n');
    const r = await keelIn('data', 'validate', few, '--schema', schema, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(false);
    expect(report.violations.filter((v: { severity: string }) => v.severity === 'error')).toMatchObject([
      { rule: 'target_classes', column: 'y' },
      { rule: 'row_count', message: '1 rows kept, the schema wants at least 2' },
    ]);
    const b = await keelIn('data', 'validate', broken, '--schema', schema);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(
      /broken\.csv: line 3 \(data row 2\) has 2 fields, the header has 4 \(no value for column "c"\)/,
    );
    expect((await keelIn('data', 'validate', clean)).code).toBe(2);
    expect((await keelIn('data', 'validate', clean, '--schema', schema, '--bogus')).code).toBe(2);
  });

  it('--reference checks expect.max_psi against a profile written by keel data profile --json', async () => {
    const ref = join(dir, 'ref.json');
    const s2 = join(dir, 'schema-psi.yaml');
    writeFileSync(
      s2,
      'columns:\n  - { name: x, type: number, expect: { max_psi: 0.1, mean: { max: 100 } } }\n',
    );
    const base = join(dir, 'base.csv');
    writeFileSync(base, `x\n${Array.from({ length: 50 }, (_, i) => i).join('\n')}\n`);
    const moved = join(dir, 'moved.csv');
    writeFileSync(moved, `x\n${Array.from({ length: 50 }, (_, i) => i + 40).join('\n')}\n`);
    writeFileSync(ref, (await keelIn('data', 'profile', base, '--schema', s2, '--json')).out);
    expect((await keelIn('data', 'validate', base, '--schema', s2, '--reference', ref)).code).toBe(0);
    const r = await keelIn('data', 'validate', moved, '--schema', s2, '--reference', ref);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /error +psi +x .*the PSI of "x" against the reference is [\d.]+, the schema allows at most 0\.1/,
    );
    expect(
      (await keelIn('data', 'validate', moved, '--schema', s2, '--reference', join(dir, 'nope.json'))).code,
    ).toBe(2);
  });

  it('the real binary gives the same exit codes', () => {
    const r = keel(['data', 'validate', dirty, '--schema', schema, '--strict'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('7 rows in, 2 kept, 5 quarantined; REJECTED');
  });
});
