/**
 * One suite for every ArtifactStore: the local directory and an S3 bucket on a real s3rver started
 * here (core/s3.testkit.ts). Each backend gives the suite a fresh store, a way to see the keys it
 * holds and to overwrite one (to check corruption is caught), and a store that cannot write.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../core/s3.js';
import { startTestS3, type TestS3 } from '../core/s3.testkit.js';
import { FsArtifactStore } from './artifacts.js';
import { S3ArtifactStore } from './s3-artifacts.js';
import type { ArtifactStore } from './types.js';

const HELLO = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const tmp = () => mkdtempSync(join(tmpdir(), 'keel-art-'));

interface Backend {
  store: ArtifactStore;
  /** Every key the store holds, relative to its root, sorted. */
  keys(): Promise<string[]>;
  /** Overwrite the bytes under a uri behind the store's back. */
  overwrite(uri: string, data: string): Promise<void>;
}

function filesUnder(root: string, rel = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(root, rel));
  } catch {
    return out;
  }
  for (const n of names) {
    const p = rel === '' ? n : `${rel}/${n}`;
    if (statSync(join(root, p)).isDirectory()) out.push(...filesUnder(root, p));
    else out.push(p);
  }
  return out.sort();
}

function fsBackend(): Backend {
  const root = tmp();
  return {
    store: new FsArtifactStore(root),
    keys: async () => filesUnder(root),
    overwrite: async (uri, data) => writeFileSync(join(root, uri), data),
  };
}

let s3: TestS3;
let bucket: string;
let prefixes = 0;

function s3Backend(): Backend {
  const prefix = `team/p${++prefixes}`;
  return {
    store: new S3ArtifactStore(`s3://${bucket}/${prefix}`),
    keys: async () => {
      const out = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
      return (out.Contents ?? []).map((o) => (o.Key as string).slice(prefix.length + 1)).sort();
    },
    overwrite: async (uri, data) => {
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${uri}`, Body: data }));
    },
  };
}

beforeAll(async () => {
  s3 = await startTestS3();
  bucket = await s3.bucket('keel-artifacts-test');
});
afterAll(async () => {
  await s3.stop();
});

describe.each([
  ['a local directory', fsBackend],
  ['an S3 bucket', s3Backend],
])('ArtifactStore conformance: %s', (_name, backend) => {
  it('stores content under <sha[0:2]>/<sha>, once, and reads it back', async () => {
    const { store: a, keys } = backend();
    const r1 = await a.put('x.txt', 'hello');
    const r2 = await a.put('y.txt', Buffer.from('hello'));
    expect(r1).toEqual({ name: 'x.txt', sha256: HELLO, size: 5, uri: `2c/${HELLO}` });
    expect(r2).toEqual({ ...r1, name: 'y.txt' });
    expect(await keys()).toEqual([`2c/${HELLO}`]); // one copy, no temporary files or keys left
    expect((await a.get(r1)).toString()).toBe('hello');
    expect((await a.get(r1.uri)).toString()).toBe('hello');
    expect(await a.exists(r1)).toBe(true);
    const bin = await a.put('b', new Uint8Array([0, 255, 1]));
    expect([...(await a.get(bin))]).toEqual([0, 255, 1]);
    const empty = await a.put('empty', '');
    expect((await a.get(empty)).length).toBe(0);
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
    const bigRef = await a.put('big.bin', big);
    expect((await a.get(bigRef)).equals(big)).toBe(true);
    expect(await keys()).toHaveLength(4);
  });

  it('reports missing and corrupt artifacts', async () => {
    const { store: a, overwrite } = backend();
    expect(await a.exists('00/missing')).toBe(false);
    await expect(a.get('00/missing')).rejects.toMatchObject({
      code: 'KEEL_E_NOT_FOUND',
      message: expect.stringMatching(/artifact 00\/missing is missing from/),
    });
    const ref = await a.put('m.json', '{"a":1}');
    await overwrite(ref.uri, '{"a":2}');
    await expect(a.get(ref)).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(/m\.json .* is corrupt/),
    });
  });

  it('refuses any path that leaves the root', async () => {
    const { store: a } = backend();
    await a.put('x', 'hello');
    for (const evil of [
      '../etc/passwd',
      '/etc/passwd',
      'aa/../../x',
      `../p1/2c/${HELLO}`,
      `2c/../2c/${HELLO}`,
      '..',
      '',
      '.',
      'a//b',
      'a\\..\\b',
      'a\0b',
    ]) {
      await expect(a.get(evil), evil).rejects.toMatchObject({
        code: 'KEEL_E_INPUT',
        message: expect.stringMatching(/escapes the artifact store/),
      });
      await expect(a.exists(evil), evil).rejects.toMatchObject({ code: 'KEEL_E_INPUT' });
    }
    await expect(a.exists({ name: 'x', sha256: 'x', size: 1, uri: '../x' })).rejects.toThrow(/escapes/);
    expect(await a.exists('..foo/bar')).toBe(false); // a name starting with '..' is still inside
  });
});

describe('FsArtifactStore', () => {
  it.skipIf(process.getuid?.() === 0)('reports a root it cannot write to as KEEL_E_STORE', async () => {
    const root = tmp();
    chmodSync(root, 0o500);
    await expect(new FsArtifactStore(root).put('x', 'y')).rejects.toMatchObject({ code: 'KEEL_E_STORE' });
  });

  it('reports a root that is a file as KEEL_E_STORE, naming it', async () => {
    const root = join(tmp(), 'file');
    writeFileSync(root, 'not a directory');
    await expect(new FsArtifactStore(root).put('x', 'y')).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringContaining(root),
    });
    expect(readFileSync(root, 'utf8')).toBe('not a directory');
    rmSync(root);
  });
});

describe('S3ArtifactStore', () => {
  it('keeps stores with different prefixes apart, and a bucket-root store works', async () => {
    const a = new S3ArtifactStore(`s3://${bucket}/one`);
    const b = new S3ArtifactStore(`s3://${bucket}/two/`);
    const ref = await a.put('x', 'only in one');
    expect(await a.exists(ref)).toBe(true);
    expect(await b.exists(ref)).toBe(false);
    await expect(b.get(ref)).rejects.toMatchObject({ code: 'KEEL_E_NOT_FOUND' });
    expect(b.key(ref.uri)).toBe(`two/${ref.uri}`);
    const rootBucket = await s3.bucket('keel-artifacts-root');
    const r = new S3ArtifactStore(`s3://${rootBucket}`);
    const got = await r.put('y', 'at the root');
    expect(r.key(got.uri)).toBe(got.uri);
    expect((await r.get(got)).toString()).toBe('at the root');
    await r.check();
  });

  it('reports a missing bucket and an unreachable endpoint as KEEL_E_STORE, naming the URL', async () => {
    const missing = new S3ArtifactStore('s3://keel-no-such-bucket/x');
    await expect(missing.check()).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(
        /s3:\/\/keel-no-such-bucket\/x .*bucket "keel-no-such-bucket" does not exist/,
      ),
    });
    await expect(missing.put('model.json', '{}')).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(
        /cannot write artifact model\.json to s3:\/\/keel-no-such-bucket\/x.*NoSuchBucket/,
      ),
    });
    await expect(missing.get(`2c/${HELLO}`)).rejects.toMatchObject({
      code: 'KEEL_E_STORE',
      message: expect.stringMatching(/NoSuchBucket/),
    });
    const down = new S3ArtifactStore(`s3://${bucket}/x`, {
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const err = await down.put('m', 'x').catch((e) => e);
    expect(err).toMatchObject({ code: 'KEEL_E_STORE' });
    expect(err.message).toMatch(/at http:\/\/127\.0\.0\.1:1/);
    expect(err.message).toMatch(/ECONNREFUSED/);
    await expect(down.check()).rejects.toMatchObject({ code: 'KEEL_E_STORE' });
  });
});
