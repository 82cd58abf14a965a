import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsArtifactStore } from './artifacts.js';
import { openArtifactStore, openStore } from './open.js';
import { S3ArtifactStore } from './s3-artifacts.js';
import { SqliteStore } from './sqlite-store.js';

describe('openStore', () => {
  it('opens SQLite from a path, a sqlite: URL or :memory:, migrated and ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-open-'));
    for (const url of [join(dir, 'a.db'), `sqlite:${join(dir, 'x', 'b.db')}`, ':memory:']) {
      const s = await openStore(url);
      expect(s).toBeInstanceOf(SqliteStore);
      expect(await (s as SqliteStore).schemaVersion()).toBeGreaterThan(0);
      await s.close();
    }
    expect(existsSync(join(dir, 'x', 'b.db'))).toBe(true);
  });

  it('reports an unreachable PostgreSQL without printing the password, and refuses unknown schemes', async () => {
    const err = await openStore('postgres://ann:secret@127.0.0.1:1/keel').catch((e) => e);
    expect(err).toMatchObject({ code: 'KEEL_E_STORE' });
    expect(err.message).toMatch(/cannot connect to PostgreSQL at postgres:\/\/ann:\*\*\*@127\.0\.0\.1:1/);
    expect(err.message).not.toContain('secret');
    await expect(openStore('mysql://x')).rejects.toMatchObject({ code: 'KEEL_E_CONFIG' });
    await expect(openStore('sqlite:')).rejects.toMatchObject({ code: 'KEEL_E_CONFIG' });
  });
});

describe('openArtifactStore', () => {
  it('opens a directory (or file://) or an s3:// bucket, and refuses bad S3 URLs and unknown schemes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-open-'));
    expect(openArtifactStore(dir)).toBeInstanceOf(FsArtifactStore);
    expect((openArtifactStore(`file://${dir}`) as FsArtifactStore).root).toBe(dir);
    const s3 = openArtifactStore('s3://keel-bucket/team/artifacts/');
    expect(s3).toBeInstanceOf(S3ArtifactStore);
    expect(s3).toMatchObject({ bucket: 'keel-bucket', prefix: 'team/artifacts' });
    for (const bad of ['s3://', 's3:///x', 's3://Upper/x', 's3://a/x'])
      expect(() => openArtifactStore(bad), bad).toThrow(
        expect.objectContaining({
          code: 'KEEL_E_CONFIG',
          message: expect.stringMatching(/invalid S3 artifact store URL/),
        }),
      );
    expect(() => openArtifactStore('gs://b')).toThrow(
      expect.objectContaining({
        code: 'KEEL_E_CONFIG',
        message: expect.stringMatching(/s3:\/\/bucket\/prefix/),
      }),
    );
    expect(() => openArtifactStore('')).toThrow(expect.objectContaining({ code: 'KEEL_E_CONFIG' }));
  });
});
