import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsArtifactStore } from './artifacts.js';
import { openArtifactStore, openStore } from './open.js';
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
  it('opens a directory (or file://), refuses S3 for now and unknown schemes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-open-'));
    expect(openArtifactStore(dir)).toBeInstanceOf(FsArtifactStore);
    expect((openArtifactStore(`file://${dir}`) as FsArtifactStore).root).toBe(dir);
    expect(() => openArtifactStore('s3://bucket/x')).toThrow(
      expect.objectContaining({
        code: 'KEEL_E_CONFIG',
        message: expect.stringMatching(/S3 artifact store is not available yet/),
      }),
    );
    expect(() => openArtifactStore('gs://b')).toThrow(expect.objectContaining({ code: 'KEEL_E_CONFIG' }));
    expect(() => openArtifactStore('')).toThrow(expect.objectContaining({ code: 'KEEL_E_CONFIG' }));
  });
});
