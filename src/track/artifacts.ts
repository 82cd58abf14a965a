/**
 * Content-addressed artifact files: <root>/<sha[0:2]>/<sha>. Written atomically (temp file, then
 * rename), so a crash never leaves a half-written artifact; the same bytes are stored once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { KeelError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { ArtifactRef, ArtifactStore } from './types.js';

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(name: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const hash = sha256(bytes);
    const path = this.pathOf(hash);
    if (!existsSync(path)) {
      mkdirSync(join(this.root, hash.slice(0, 2)), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, path);
    }
    return { name, sha256: hash, size: bytes.length, uri: `${hash.slice(0, 2)}/${hash}` };
  }

  async get(ref: ArtifactRef | string): Promise<Buffer> {
    const path = this.resolveRef(ref);
    try {
      return await readFile(path);
    } catch {
      throw new KeelError(
        'KEEL_E_NOT_FOUND',
        `artifact ${typeof ref === 'string' ? ref : ref.name} is missing from ${this.root}`,
      );
    }
  }

  async exists(ref: ArtifactRef | string): Promise<boolean> {
    return existsSync(this.resolveRef(ref));
  }

  private pathOf(hash: string): string {
    return join(this.root, hash.slice(0, 2), hash);
  }

  /** The file of a ref; refuses anything that would leave the root. */
  private resolveRef(ref: ArtifactRef | string): string {
    const uri = typeof ref === 'string' ? ref : ref.uri;
    const path = resolve(this.root, uri);
    const rel = relative(this.root, path);
    if (rel === '' || rel.split(sep).includes('..') || isAbsolute(rel))
      throw new KeelError('KEEL_E_INPUT', `artifact path "${uri}" escapes the artifact store`);
    return path;
  }
}
