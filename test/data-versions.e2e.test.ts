/** keel data add / ls / diff / push / pull, called in-process in a fresh project directory. */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/core/index.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-versions-'));
const cwd = process.cwd();

const a = 'id,x,c\n1,1,a\n2,2,b\n3,3,a\n';
const b = 'id,x,c\n1,1,a\n2,2,b\n3,3,a\n4,40,b\n5,50,b\n';
beforeAll(() => {
  process.chdir(dir);
  writeFileSync(join(dir, 'a.csv'), a);
  writeFileSync(join(dir, 'b.csv'), b);
});
afterAll(() => process.chdir(cwd));

describe('keel data versions', () => {
  it('add, ls, diff, push and pull', async () => {
    const r1 = await keelIn('data', 'add', 'a.csv', '--name', 'churn');
    expect(r1.code).toBe(0);
    expect(r1.out).toBe(`added churn@1 (sha256 ${sha256(a).slice(0, 12)}, 3 rows x 3 columns)\n`);
    expect(existsSync(join(dir, '.keel', 'datasets', 'objects', sha256(a).slice(0, 2), sha256(a)))).toBe(
      true,
    );
    expect((await keelIn('data', 'add', 'a.csv', '--name', 'churn')).out).toMatch(/^unchanged churn@1/);
    const r2 = await keelIn('data', 'add', 'b.csv', '--name', 'churn', '--json');
    expect(JSON.parse(r2.out)).toMatchObject({
      name: 'churn',
      version: 2,
      rows: 5,
      sha256: sha256(b),
      created: true,
    });
    const ls = await keelIn('data', 'ls');
    expect(ls.out.split('\n')[0]).toMatch(/^name +version +sha256 +rows +columns +bytes +file +added$/);
    expect(ls.out).toMatch(new RegExp(`churn +1 +${sha256(a).slice(0, 12)} +3 +3 +${a.length} +a\\.csv`));
    expect(ls.out).toMatch(/churn +2 +\w{12} +5 +3/);
    const diff = await keelIn('data', 'diff', 'churn@1', 'churn@2');
    expect(diff.code).toBe(0);
    expect(diff.out).toMatch(/^churn@1 -> churn@2: rows 3 -> 5 \(\+2\), same schema\n/);
    expect(diff.out).toMatch(/~ column "x": count 3 -> 5; .*mean 2 -> 19.2; .*psi \d/);
    const j = JSON.parse((await keelIn('data', 'diff', 'churn@1', 'churn', '--json')).out);
    expect(j.rows_delta).toBe(2);
    const remote = join(dir, 'remote');
    expect((await keelIn('data', 'push', remote)).out).toBe(
      `pushed 2 objects, 2 new versions to ${remote}\n`,
    );
    // another project pulls them
    const other = mkdtempSync(join(tmpdir(), 'keel-data-other-'));
    process.chdir(other);
    expect((await keelIn('data', 'pull', remote)).out).toBe(
      `pulled 2 objects, 2 new versions from ${remote}\n`,
    );
    expect(
      JSON.parse((await keelIn('data', 'ls', 'churn', '--json')).out).map(
        (v: { sha256: string }) => v.sha256,
      ),
    ).toEqual([sha256(a), sha256(b)]);
    const missing = await keelIn('data', 'diff', 'churn@1', 'churn@9');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/dataset "churn@9" not found/);
    process.chdir(dir);
  });
});
