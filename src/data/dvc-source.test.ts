/** Reading data tracked by DVC from the repository's cache (DVC 3 and DVC 2 layouts), md5 checked. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../core/hash.js';
import { parseSchema, readTable } from './index.js';

const schema = parseSchema({
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'x', type: 'number', min: 0 },
  ],
});
const csv = 'id,x\r\n1,1.5\r\n2,-1\r\n3,3\r\n';
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-dvc-'));
  mkdirSync(join(root, '.dvc'));
  mkdirSync(join(root, 'data'));
  return root;
}

function cacheObject(root: string, layout: 3 | 2, hash: string, bytes: string): void {
  const dir =
    layout === 3
      ? join(root, '.dvc', 'cache', 'files', 'md5', hash.slice(0, 2))
      : join(root, '.dvc', 'cache', hash.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, hash.slice(2)), bytes);
}

describe('readTable on a .dvc file', () => {
  it('reads the tracked CSV from the DVC 3 cache, exactly as the file itself', async () => {
    const root = repo();
    const h = md5(csv);
    cacheObject(root, 3, h, csv);
    const dvc = join(root, 'data', 'churn.csv.dvc');
    writeFileSync(dvc, `outs:\n- md5: ${h}\n  size: ${csv.length}\n  hash: md5\n  path: churn.csv\n`);
    const r = await readTable(dvc, schema);
    const path = join(root, 'data', 'churn.csv');
    expect(r.report).toMatchObject({ file: path, rows: 3, kept: 2, quarantined: 1 });
    expect(r.report.violations[0]).toMatchObject({ rule: 'min', column: 'x', rows: [3] });
    expect(r.frame.toRecords()).toEqual([
      { id: 1, x: 1.5 },
      { id: 3, x: 3 },
    ]);
    expect(r.source).toMatchObject({ path, sha256: sha256(csv) });
  });

  it('reads DVC 2 caches, whose md5 of a text file ignores CR before LF', async () => {
    const root = repo();
    const h = md5(csv.replaceAll('\r\n', '\n'));
    cacheObject(root, 2, h, csv);
    const dvc = join(root, 'data', 'churn.csv.dvc');
    writeFileSync(dvc, `outs:\n- md5: ${h}\n  path: churn.csv\n`);
    expect((await readTable(dvc, schema)).report.rows).toBe(3);
  });

  it('names what is wrong: not in the cache, a corrupt object, a directory, no repository', async () => {
    const root = repo();
    const h = md5(csv);
    const dvc = join(root, 'data', 'churn.csv.dvc');
    writeFileSync(dvc, `outs:\n- md5: ${h}\n  hash: md5\n  path: churn.csv\n`);
    await expect(readTable(dvc, schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: expect.stringMatching(
        /churn\.csv \(.*churn\.csv\.dvc\) is not in the DVC cache .*run `dvc pull`/,
      ),
    });
    cacheObject(root, 3, h, `${csv}4,4\r\n`);
    await expect(readTable(dvc, schema)).rejects.toMatchObject({
      code: 'KEEL_E_CONFLICT',
      message: expect.stringMatching(/DVC cache object .* is corrupt: its md5 is [0-9a-f]{32}, .* says /),
    });
    writeFileSync(dvc, `outs:\n- md5: ${h}.dir\n  path: images\n`);
    await expect(readTable(dvc, schema)).rejects.toThrow(/tracks a directory/);
    const lone = mkdtempSync(join(tmpdir(), 'keel-nodvc-'));
    writeFileSync(join(lone, 'a.csv.dvc'), `outs:\n- md5: ${h}\n  path: a.csv\n`);
    await expect(readTable(join(lone, 'a.csv.dvc'), schema)).rejects.toThrow(/no \.dvc directory above it/);
  });
});
