/**
 * Large files are read in chunks: a CSV four times larger than the JS heap limit of the process
 * reading it (node --max-old-space-size=48 --max-semi-space-size=1, a ~51 MB heap) is validated
 * and profiled; quarantined rows are written to the file as they are found; rows in = kept +
 * quarantined. The file is made here from a template block with the ids written in place.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BLOCK = 1000;
const BLOCKS = 500;
const notes = Array.from(
  { length: 5 },
  (_, k) => `segment ${k}: ${'customers who signed up through the partner channel '.repeat(8).trim()}`,
);

/** Rows: a 9-digit id, x = (i % 1000) / 8, c in a/b/c, y yes/no, a long category; every 1000th row has x = "oops". */
function writeLarge(path: string): { rows: number; sha256: string } {
  const lines: string[] = [];
  for (let i = 0; i < BLOCK; i++)
    lines.push(
      `000000000,${i === 999 ? 'oops' : ((i % 1000) / 8).toFixed(3)},${'abc'[i % 3]},${i % 2 ? 'yes' : 'no'},${notes[i % 5]}\n`,
    );
  const template = Buffer.from(lines.join(''));
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += Buffer.byteLength(l);
  }
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  const head = Buffer.from('id,x,c,y,note\n');
  writeSync(fd, head);
  hash.update(head);
  const block = Buffer.from(template);
  for (let b = 0; b < BLOCKS; b++) {
    for (let i = 0; i < BLOCK; i++) {
      let id = b * BLOCK + i + 1;
      for (let d = 8; d >= 0; d--) {
        block[starts[i] + d] = 48 + (id % 10);
        id = Math.floor(id / 10);
      }
    }
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  return { rows: BLOCK * BLOCKS, sha256: hash.digest('hex') };
}

describe('a CSV several times larger than the JS heap', () => {
  it('is validated and profiled in chunks, the quarantine written as it goes', () => {
    const file = join(dir, 'large.csv');
    const { rows, sha256 } = writeLarge(file);
    const schema = join(dir, 'schema.yaml');
    writeFileSync(
      schema,
      [
        'columns:',
        '  - { name: id, type: integer, unique: true }',
        '  - { name: x, type: number, min: 0 }',
        '  - { name: c, type: category, allowed: [a, b, c] }',
        '  - { name: y, type: category }',
        '  - { name: note, type: category }',
        '',
      ].join('\n'),
    );
    const quarantine = join(dir, 'quarantine.csv');
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=48',
        '--max-semi-space-size=1',
        '--import',
        'tsx',
        join(repoRoot, 'test', 'fixtures', 'large-csv-child.ts'),
        file,
        schema,
        quarantine,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.bytes).toBeGreaterThan(4 * out.heap_limit);
    expect(out.heap_limit).toBeLessThan(64 * 2 ** 20);
    const bad = BLOCKS; // one "oops" per block
    expect(out.report).toMatchObject({ ok: true, rows, kept: rows - bad, quarantined: bad, columns: 5 });
    expect(out.report.kept + out.report.quarantined).toBe(out.report.rows);
    expect(out.report.violations).toEqual([
      {
        rule: 'type',
        column: 'x',
        count: bad,
        rows: Array.from({ length: 10 }, (_, k) => 1001 + k * BLOCK),
      },
    ]);
    expect(out.sha256).toBe(sha256);
    // the quarantine file: a header and one line per quarantined row, with its file line and reason
    const q = readFileSync(quarantine, 'utf8').trimEnd().split('\n');
    expect(q.length).toBe(bad + 1);
    expect(q[0]).toBe('id,x,c,y,note,_keel_line,_keel_reason');
    expect(q[1]).toBe(`000001000,oops,a,yes,${notes[4]},1001,"x: type ""oops"""`);
    expect(q[bad]).toMatch(new RegExp(`^${String(rows).padStart(9, '0')},oops,`));
    expect(out.in_memory_quarantine).toBe(0);
    const byName = Object.fromEntries(out.profile.map((c: { name: string }) => [c.name, c]));
    expect(byName.id).toMatchObject({
      count: rows - bad,
      missing: 0,
      distinct: rows - bad,
      min: 1,
      max: rows - 1,
    });
    // x: 0, 0.125, ..., 124.75 in every block (the 1000th is quarantined)
    expect(byName.x).toMatchObject({ count: rows - bad, distinct: 999, min: 0, max: 998 / 8 });
    expect(byName.x.mean).toBeCloseTo(499 / 8, 9);
    expect(byName.note).toMatchObject({ count: rows - bad, distinct: 5, top: 5 });
  });
});
