import { KeelError } from '../core/errors.js';
import { DEFAULT_ARTIFACTS_ROOT, FsArtifactStore } from './artifacts.js';
import { HttpStore } from './http-store.js';
import { PostgresStore } from './postgres-store.js';
import { S3ArtifactStore } from './s3-artifacts.js';
import { DEFAULT_STORE_PATH, SqliteStore } from './sqlite-store.js';
import type { ArtifactStore, TrackingStore } from './types.js';

/**
 * A tracking store from a URL, migrated before this resolves: a file path, `sqlite:PATH` or
 * `:memory:` (SQLite), `postgres://user@host:port/db[?schema=name]` (PostgreSQL; the optional
 * schema keeps several stores apart in one database) or `http(s)://host:port` (a `keel server`:
 * remote mode). KEEL_TRACKING_URI, when set, wins over url (as MLFLOW_TRACKING_URI does for MLflow).
 */
export async function openStore(given: string = DEFAULT_STORE_PATH): Promise<TrackingStore> {
  const url = process.env.KEEL_TRACKING_URI || given;
  if (/^https?:\/\//i.test(url)) return new HttpStore(url);
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const u = new URL(url);
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    return ready(new PostgresStore(u.toString(), { schema }));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new KeelError('KEEL_E_CONFIG', `unsupported store URL "${redact(url)}": use a SQLite file path`, {
      path: ['store'],
    });
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (path === '') throw new KeelError('KEEL_E_CONFIG', 'the store path is empty', { path: ['store'] });
  return ready(new SqliteStore(path));
}

async function ready<S extends SqliteStore | PostgresStore>(store: S): Promise<S> {
  try {
    await store.migrated();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}

/**
 * An artifact store from a URL: a directory (or file://DIR), or `s3://bucket/prefix` (an S3 or
 * S3-compatible bucket; endpoint and credentials from the environment, see core/s3.ts).
 */
export function openArtifactStore(url: string = DEFAULT_ARTIFACTS_ROOT): ArtifactStore {
  if (/^s3:\/\//i.test(url)) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(url))
      throw new KeelError(
        'KEEL_E_CONFIG',
        `invalid S3 artifact store URL "${url}": expected s3://bucket/prefix with a bucket name of 3-63 lower-case letters, digits, "." and "-"`,
        { path: ['artifacts'] },
      );
    return new S3ArtifactStore(url);
  }
  if (url.startsWith('file://')) return new FsArtifactStore(url.slice('file://'.length));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new KeelError(
      'KEEL_E_CONFIG',
      `unsupported artifact store URL "${url}": use a directory or s3://bucket/prefix`,
      {
        path: ['artifacts'],
      },
    );
  if (url === '')
    throw new KeelError('KEEL_E_CONFIG', 'the artifacts path is empty', { path: ['artifacts'] });
  return new FsArtifactStore(url);
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
