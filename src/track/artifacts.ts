/**
 * Content-addressed artifact files: <root>/<sha[0:2]>/<sha>. Written atomically (temp file in the
 * same directory, then rename), so a crash never leaves a half-written artifact under its final
 * name; the same bytes are stored once. Reads never leave the root, and reading by an ArtifactRef
 * checks the bytes against its sha256.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { KeelError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { ArtifactRef, ArtifactStore } from './types.js';

export const DEFAULT_ARTIFACTS_ROOT = '.keel/artifacts';

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string = DEFAULT_ARTIFACTS_ROOT) {
    this.root = resolve(root);
  }

  async put(name: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const hash = sha256(bytes);
    const uri = `${hash.slice(0, 2)}/${hash}`;
    const path = join(this.root, uri);
    if (!(await fileExists(path))) {
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await mkdir(join(this.root, hash.slice(0, 2)), { recursive: true });
        await writeFile(tmp, bytes);
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => {});
        throw new KeelError(
          'KEEL_E_STORE',
          `cannot write artifact ${name} to ${this.root}: ${(e as Error).message}`,
          {},
          { cause: e },
        );
      }
    }
    return { name, sha256: hash, size: bytes.length, uri };
  }

  async get(ref: ArtifactRef | string): Promise<Buffer> {
    const path = this.resolveRef(ref);
    const label = typeof ref === 'string' ? ref : `${ref.name} (${ref.uri})`;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new KeelError('KEEL_E_NOT_FOUND', `artifact ${label} is missing from ${this.root}`);
    }
    if (typeof ref !== 'string' && sha256(bytes) !== ref.sha256)
      throw new KeelError(
        'KEEL_E_STORE',
        `artifact ${label} in ${this.root} is corrupt: its sha256 is not ${ref.sha256}`,
      );
    return bytes;
  }

  async exists(ref: ArtifactRef | string): Promise<boolean> {
    return fileExists(this.resolveRef(ref));
  }

  /** The file of a ref; refuses anything that would leave the root. */
  private resolveRef(ref: ArtifactRef | string): string {
    const uri = typeof ref === 'string' ? ref : ref.uri;
    checkArtifactUri(uri);
    const path = resolve(this.root, uri);
    const rel = relative(this.root, path);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw escapes(uri);
    return path;
  }
}

/**
 * The one rule for a ref's uri in any artifact store (a directory or a bucket prefix): a relative
 * path of non-empty segments, none of them `.` or `..`, without backslashes or NULs. Throws
 * KEEL_E_INPUT otherwise.
 */
export function checkArtifactUri(uri: string): void {
  if (
    typeof uri !== 'string' ||
    uri === '' ||
    uri.startsWith('/') ||
    /[\\\0]/.test(uri) ||
    /^[A-Za-z]:/.test(uri) ||
    uri.split('/').some((s) => s === '' || s === '.' || s === '..')
  )
    throw escapes(String(uri));
}

const escapes = (uri: string) =>
  new KeelError('KEEL_E_INPUT', `artifact path "${uri}" escapes the artifact store`);

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
