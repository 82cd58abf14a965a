import { KeelError } from '../core/errors.js';
import { FsArtifactStore } from './artifacts.js';
import { SqliteStore } from './sqlite-store.js';
import type { ArtifactStore, TrackingStore } from './types.js';

/** A tracking store from a URL: a file path, sqlite:PATH or :memory: (PostgreSQL comes with issue 5). */
export async function openStore(url: string): Promise<TrackingStore> {
  if (/^postgres(ql)?:\/\//.test(url))
    throw new KeelError(
      'KEEL_E_CONFIG',
      `PostgreSQL store is not available yet (store: ${url.replace(/\/\/[^@]*@/, '//***@')}); use a SQLite file path`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new KeelError('KEEL_E_CONFIG', `unsupported store URL "${url}": use a SQLite file path`);
  return new SqliteStore(url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url);
}

/** An artifact store from a URL: a directory (S3 comes with issue 5). */
export function openArtifactStore(url: string): ArtifactStore {
  if (url.startsWith('s3://'))
    throw new KeelError(
      'KEEL_E_CONFIG',
      `S3 artifact store is not available yet (artifacts: ${url}); use a directory`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new KeelError('KEEL_E_CONFIG', `unsupported artifact store URL "${url}": use a directory`);
  return new FsArtifactStore(url.startsWith('file://') ? url.slice('file://'.length) : url);
}
