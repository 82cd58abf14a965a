import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsArtifactStore } from './artifacts.js';

const HELLO = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const tmp = () => mkdtempSync(join(tmpdir(), 'keel-art-'));

describe('FsArtifactStore', () => {
  it('stores content under <sha[0:2]>/<sha>, once, and reads it back', async () => {
    const root = tmp();
    const a = new FsArtifactStore(root);
    const r1 = await a.put('x.txt', 'hello');
    const r2 = await a.put('y.txt', Buffer.from('hello'));
    expect(r1).toEqual({ name: 'x.txt', sha256: HELLO, size: 5, uri: `2c/${HELLO}` });
    expect(r2).toEqual({ ...r1, name: 'y.txt' });
    expect(readFileSync(join(root, '2c', HELLO), 'utf8')).toBe('hello');
    expect(readdirSync(join(root, '2c'))).toEqual([HELLO]); // one copy, no temp files left
    expect((await a.get(r1)).toString()).toBe('hello');
    expect((await a.get(r1.uri)).toString()).toBe('hello');
    expect(await a.exists(r1)).toBe(true);
    const bin = await a.put('b', new Uint8Array([0, 255, 1]));
    expect([...(await a.get(bin))]).toEqual([0, 255, 1]);
  });

  it('reports missing and corrupt artifacts', async () => {
    const root = tmp();
    const a = new FsArtifactStore(root);
    expect(await a.exists('00/missing')).toBe(false);
    await expect(a.get('00/missing')).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
    const ref = await a.put('m.json', '{"a":1}');
    writeFileSync(join(root, ref.uri), '{"a":2}');
    await expect(a.get(ref)).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(/corrupt/),
    });
  });

  it('refuses any path that leaves the root', async () => {
    const a = new FsArtifactStore(tmp());
    for (const evil of ['../etc/passwd', '/etc/passwd', 'aa/../../x', '..', '', '.'])
      await expect(a.get(evil)).rejects.toMatchObject({
        code: 'KEEL_E_INPUT',
        message: expect.stringMatching(/escapes the artifact store/),
      });
    await expect(a.exists({ name: 'x', sha256: 'x', size: 1, uri: '../x' })).rejects.toThrow(/escapes/);
    expect(await a.exists('..foo/bar')).toBe(false); // a name starting with '..' is still inside
  });

  it.skipIf(process.getuid?.() === 0)('reports a root it cannot write to as KEEL_E_STORE', async () => {
    const root = tmp();
    chmodSync(root, 0o500);
    await expect(new FsArtifactStore(root).put('x', 'y')).rejects.toMatchObject({ code: 'KEEL_E_STORE' });
  });
});
