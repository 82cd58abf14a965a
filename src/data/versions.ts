/**
 * Dataset versions: content-addressed snapshots. A file's bytes are stored once under
 * `objects/ab/<sha256>`; `index.json` maps names to versions (1, 2, …) with the row count, the
 * schema and its hash, and the profile. The identity of a version is the sha256 of its bytes,
 * never its file name or time. A remote is a directory, or an S3 prefix (`s3://bucket/prefix`), with
 * the same layout: push and pull copy the missing objects (checking their hashes) and merge the
 * indexes.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { KeelError } from '../core/errors.js';
import { sha256, sha256File } from '../core/hash.js';
import { isS3Url, parseS3Url, s3Client, s3Key } from '../core/s3.js';
import { type ColumnProfile, type DataProfile, profileFrame, profileFrameParallel, psi } from './profile.js';
import { s3Error, s3Exists, s3Object } from './s3-source.js';
import type { Schema } from './schema.js';
import { readTable, type TableFormat, tableFormat } from './table.js';

export interface DatasetVersion {
  name: string;
  version: number;
  sha256: string;
  /** The file name it was added from (informational; not part of the identity). */
  file: string;
  /** How the bytes are read back (csv when absent, as in indexes written before formats). */
  format?: TableFormat;
  bytes: number;
  rows: number;
  columns: number;
  schema: Schema;
  schema_sha256: string;
  profile: DataProfile;
  added_at: string;
}
interface IndexFile {
  format: 1;
  datasets: Record<string, DatasetVersion[]>;
}

/** JSON with object keys sorted, so equal values hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function schemaHash(schema: Schema): string {
  return sha256(canonical(schema));
}

function objectPath(root: string, hash: string): string {
  return join(root, 'objects', hash.slice(0, 2), hash);
}

function readIndex(root: string): IndexFile {
  const p = join(root, 'index.json');
  if (!existsSync(p)) return { format: 1, datasets: {} };
  try {
    const doc = JSON.parse(readFileSync(p, 'utf8')) as IndexFile;
    if (doc.format !== 1 || typeof doc.datasets !== 'object') throw new Error('unknown format');
    return doc;
  } catch (e) {
    throw new KeelError('KEEL_E_PARSE', `dataset index ${p} is unreadable: ${(e as Error).message}`, {
      file: p,
    });
  }
}

function writeIndex(root: string, index: IndexFile): void {
  mkdirSync(root, { recursive: true });
  const p = join(root, 'index.json');
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(index, null, 1)}\n`);
  renameSync(tmp, p);
}

/** Copy an object between stores unless present, refusing bytes that do not match their name. */
async function copyObject(fromRoot: string, toRoot: string, hash: string): Promise<boolean> {
  const dst = objectPath(toRoot, hash);
  if (existsSync(dst)) return false;
  const src = objectPath(fromRoot, hash);
  if (!existsSync(src))
    throw new KeelError('KEEL_E_NOT_FOUND', `object ${hash} is missing from ${fromRoot}`, { file: src });
  mkdirSync(join(toRoot, 'objects', hash.slice(0, 2)), { recursive: true });
  const tmp = `${dst}.${process.pid}.tmp`;
  try {
    const got = await streamToFile(createReadStream(src), tmp);
    if (got.sha256 !== hash)
      throw new KeelError('KEEL_E_CONFLICT', `object ${src} is corrupt: its sha256 is ${got.sha256}`, {
        file: src,
      });
    renameSync(tmp, dst);
    return true;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Write a stream of chunks to a file, hashing them on the way (the bytes are never held whole):
 * their sha256 and length.
 */
async function streamToFile(
  body: AsyncIterable<Uint8Array | string>,
  path: string,
): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  try {
    for await (const chunk of body) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      h.update(b);
      bytes += b.length;
      if (!out.write(b)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
    }
  } finally {
    await Promise.race([new Promise<void>((r) => out.end(() => r())), failed]);
  }
  return { sha256: h.digest('hex'), bytes };
}

function mergeIndex(base: IndexFile, incoming: IndexFile): { index: IndexFile; added: number } {
  const out: IndexFile = { format: 1, datasets: structuredClone(base.datasets) };
  let added = 0;
  for (const [name, versions] of Object.entries(incoming.datasets)) {
    const list = (out.datasets[name] ??= []);
    const have = new Set(list.map((v) => v.sha256));
    for (const v of versions) {
      if (have.has(v.sha256)) continue;
      list.push({ ...v, version: list.length ? list[list.length - 1].version + 1 : 1 });
      have.add(v.sha256);
      added++;
    }
  }
  return { index: out, added };
}

export interface SyncResult {
  objects: number;
  versions: number;
}

export interface ColumnChange {
  column: string;
  /** added, removed, or changed (type, nullable, allowed values or statistics). */
  change: 'added' | 'removed' | 'changed';
  schema: string[];
  stats: Record<string, { a: number | null; b: number | null }>;
  /** Population stability index of B against A (numbers binned on A's edges; categories). */
  psi: number | null;
}
export interface DatasetDiff {
  a: { ref: string; sha256: string; rows: number; schema_sha256: string };
  b: { ref: string; sha256: string; rows: number; schema_sha256: string };
  same_content: boolean;
  rows_delta: number;
  columns: ColumnChange[];
}

const STATS = ['count', 'missing', 'distinct', 'min', 'max', 'mean', 'std'] as const;

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** A store of dataset versions rooted at a directory (by default `.keel/datasets`). */
export interface DatasetStoreOptions {
  /** S3 remotes: objects larger than this go up as multipart uploads of parts this big (16 MiB). */
  s3PartBytes?: number;
}

export class DatasetStore {
  constructor(
    readonly root: string,
    private readonly options: DatasetStoreOptions = {},
  ) {}

  /** Every version, or the versions of one name, oldest first. */
  list(name?: string): DatasetVersion[] {
    const { datasets } = readIndex(this.root);
    if (name !== undefined) {
      if (!datasets[name])
        throw new KeelError('KEEL_E_NOT_FOUND', `no dataset named "${name}" in ${this.root}`);
      return datasets[name];
    }
    return Object.keys(datasets)
      .sort()
      .flatMap((n) => datasets[n]);
  }

  /** `name` (latest), `name@3`, `name@latest`, or `name@<sha256 prefix>`. */
  get(ref: string): DatasetVersion {
    const at = ref.lastIndexOf('@');
    const name = at < 0 ? ref : ref.slice(0, at);
    const sel = at < 0 ? 'latest' : ref.slice(at + 1);
    const versions = this.list(name);
    let found: DatasetVersion | undefined;
    if (sel === 'latest') found = versions[versions.length - 1];
    else if (/^\d+$/.test(sel)) found = versions.find((v) => v.version === Number(sel));
    else if (/^[0-9a-f]{6,64}$/.test(sel)) {
      const hits = versions.filter((v) => v.sha256.startsWith(sel));
      if (hits.length > 1) throw new KeelError('KEEL_E_USAGE', `"${ref}" matches ${hits.length} versions`);
      found = hits[0];
    }
    if (!found)
      throw new KeelError(
        'KEEL_E_NOT_FOUND',
        `dataset "${ref}" not found (versions of ${name}: ${versions.map((v) => v.version).join(', ')})`,
      );
    return found;
  }

  /** Where a version's bytes are. */
  path(v: DatasetVersion): string {
    return objectPath(this.root, v.sha256);
  }

  /**
   * Snapshot a data file (CSV, TSV, Parquet, JSON, NDJSON; not a glob) under a name: validated (with the schema, or an inferred one) and
   * profiled; its bytes stored by sha256. Adding the same bytes as the latest version again
   * returns that version (created false).
   */
  async add(
    file: string,
    name: string,
    schema?: Schema,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new KeelError('KEEL_E_USAGE', `dataset name "${name}" must be letters, digits, ".", "_" or "-"`);
    if (/[*?[]/.test(file))
      throw new KeelError('KEEL_E_USAGE', `add one file at a time, not a glob: ${file}`, { file });
    const read = await readTable(file, schema);
    // the bytes are streamed into the store while hashed, never held whole; they must be the
    // bytes just read (a file rewritten in between would give a version whose statistics lie)
    mkdirSync(join(this.root, 'objects'), { recursive: true });
    const tmp = join(this.root, 'objects', `.add.${process.pid}.${Date.now()}.tmp`);
    let hash: string;
    let size: number;
    try {
      const body = isS3Url(file) ? (await s3Object(file)).body : createReadStream(file);
      ({ sha256: hash, bytes: size } = await streamToFile(body, tmp));
      if (read.source.sha256 && read.source.sha256 !== hash)
        throw new KeelError('KEEL_E_CONFLICT', `${file} changed while it was being added; add it again`, {
          file,
        });
      const index = readIndex(this.root);
      const latest = index.datasets[name]?.at(-1);
      if (latest?.sha256 === hash) return { version: latest, created: false };
      const dst = objectPath(this.root, hash);
      if (!existsSync(dst)) {
        mkdirSync(join(this.root, 'objects', hash.slice(0, 2)), { recursive: true });
        renameSync(tmp, dst);
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    const index = readIndex(this.root);
    const list = (index.datasets[name] ??= []);
    const latest = list[list.length - 1];
    const version: DatasetVersion = {
      name,
      version: latest ? latest.version + 1 : 1,
      sha256: hash,
      file: basename(isS3Url(file) ? parseS3Url(file).key : file),
      format: tableFormat(file) ?? 'csv',
      bytes: size,
      rows: read.report.rows,
      columns: read.report.columns,
      schema: read.schema,
      schema_sha256: schemaHash(read.schema),
      profile: await profileFrameParallel(read.frame),
      added_at: new Date().toISOString(),
    };
    list.push(version);
    writeIndex(this.root, index);
    return { version, created: true };
  }

  /**
   * Schema and statistics changes from version A to version B, the row-count delta, and each
   * column's PSI (B's numbers re-binned on A's histogram edges, so B's bytes are read again).
   */
  async diff(refA: string, refB: string): Promise<DatasetDiff> {
    const a = this.get(refA);
    const b = this.get(refB);
    const rebinned =
      a.sha256 === b.sha256
        ? a.profile
        : profileFrame((await readTable(this.path(b), b.schema, { format: b.format ?? 'csv' })).frame, {
            reference: a.profile,
          });
    const specA = new Map(a.schema.columns.map((c) => [c.name, c]));
    const specB = new Map(b.schema.columns.map((c) => [c.name, c]));
    const profA = new Map(a.profile.columns.map((c) => [c.name, c]));
    const profB = new Map(b.profile.columns.map((c) => [c.name, c]));
    const names = [...new Set([...specA.keys(), ...specB.keys()])];
    const columns: ColumnChange[] = [];
    for (const n of names) {
      const sa = specA.get(n);
      const sb = specB.get(n);
      if (!sa || !sb) {
        columns.push({ column: n, change: sa ? 'removed' : 'added', schema: [], stats: {}, psi: null });
        continue;
      }
      const schema: string[] = [];
      if (sa.type !== sb.type) schema.push(`type ${sa.type} -> ${sb.type}`);
      if (sa.nullable !== sb.nullable) schema.push(`nullable ${sa.nullable} -> ${sb.nullable}`);
      const allowedA = sa.allowed ?? [];
      const allowedB = sb.allowed ?? [];
      const gained = allowedB.filter((x) => !allowedA.includes(x));
      const lost = allowedA.filter((x) => !allowedB.includes(x));
      if (gained.length) schema.push(`allowed + ${gained.join(', ')}`);
      if (lost.length) schema.push(`allowed - ${lost.join(', ')}`);
      const pa = profA.get(n);
      const pb = profB.get(n);
      const stats: ColumnChange['stats'] = {};
      let drift: number | null = null;
      if (pa && pb) {
        for (const k of STATS) if (!close(pa[k], pb[k])) stats[k] = { a: pa[k], b: pb[k] };
        const rb = rebinned.columns.find((c) => c.name === n);
        drift = rb ? columnPsi(pa, rb) : null;
      }
      if (schema.length || Object.keys(stats).length)
        columns.push({ column: n, change: 'changed', schema, stats, psi: drift });
    }
    const side = (v: DatasetVersion) => ({
      ref: `${v.name}@${v.version}`,
      sha256: v.sha256,
      rows: v.rows,
      schema_sha256: v.schema_sha256,
    });
    return {
      a: side(a),
      b: side(b),
      same_content: a.sha256 === b.sha256,
      rows_delta: b.rows - a.rows,
      columns,
    };
  }

  /**
   * push or pull to a directory or an S3 prefix (`s3://bucket/prefix`): the same layout, objects
   * checked against their sha256 on both sides.
   */
  async pushRemote(remote: string): Promise<SyncResult> {
    if (!isS3Url(remote)) return this.push(remote);
    const local = readIndex(this.root);
    let objects = 0;
    const done = new Set<string>();
    for (const v of Object.values(local.datasets).flat()) {
      if (done.has(v.sha256)) continue;
      done.add(v.sha256);
      if (await putS3Object(this.root, remote, v.sha256, this.options.s3PartBytes ?? S3_PART_BYTES))
        objects++;
    }
    const { index, added } = mergeIndex(await readS3Index(remote), local);
    await writeS3Index(remote, index);
    writeIndex(this.root, mergeIndex(index, local).index);
    return { objects, versions: added };
  }

  async pullRemote(remote: string): Promise<SyncResult> {
    if (!isS3Url(remote)) return this.pull(remote);
    const indexUrl = `${remote.replace(/\/+$/, '')}/index.json`;
    if (!(await s3Exists(indexUrl)))
      throw new KeelError('KEEL_E_NOT_FOUND', `${remote} is not a dataset remote (no index.json)`, {
        file: remote,
      });
    const theirs = await readS3Index(remote);
    let objects = 0;
    for (const v of Object.values(theirs.datasets).flat())
      if (await getS3Object(remote, this.root, v.sha256)) objects++;
    const { index, added } = mergeIndex(readIndex(this.root), theirs);
    writeIndex(this.root, index);
    return { objects, versions: added };
  }

  /** Copy the objects the remote lacks and merge this index into the remote's (and back). */
  async push(remote: string): Promise<SyncResult> {
    const local = readIndex(this.root);
    let objects = 0;
    for (const v of Object.values(local.datasets).flat())
      if (await copyObject(this.root, remote, v.sha256)) objects++;
    const { index, added } = mergeIndex(readIndex(remote), local);
    writeIndex(remote, index);
    writeIndex(this.root, mergeIndex(index, local).index);
    return { objects, versions: added };
  }

  /** Copy the objects this store lacks from the remote and merge the remote's index into this one. */
  async pull(remote: string): Promise<SyncResult> {
    if (!existsSync(join(remote, 'index.json')))
      throw new KeelError('KEEL_E_NOT_FOUND', `${remote} is not a dataset remote (no index.json)`, {
        file: remote,
      });
    const theirs = readIndex(remote);
    let objects = 0;
    for (const v of Object.values(theirs.datasets).flat())
      if (await copyObject(remote, this.root, v.sha256)) objects++;
    const { index, added } = mergeIndex(readIndex(this.root), theirs);
    writeIndex(this.root, index);
    return { objects, versions: added };
  }
}

/** PSI of B against A when comparable: categories always; numbers only on the same histogram edges. */
function columnPsi(a: ColumnProfile, b: ColumnProfile): number | null {
  if (a.kind !== b.kind) return null;
  if (a.kind === 'numeric') {
    const ea = a.histogram?.edges;
    const eb = b.histogram?.edges;
    if (!ea || !eb || ea.length !== eb.length || ea.some((x, i) => x !== eb[i])) return null;
  }
  const v = psi(a, b);
  return Number.isNaN(v) ? null : v;
}

function s3Url(remote: string, ...parts: string[]): { url: string; bucket: string; key: string } {
  const { bucket, key } = parseS3Url(remote);
  const k = s3Key(key, ...parts);
  return { url: `s3://${bucket}/${k}`, bucket, key: k };
}

async function s3Bytes(url: string): Promise<Buffer> {
  const { body } = await s3Object(url);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function readS3Index(remote: string): Promise<IndexFile> {
  const { url } = s3Url(remote, 'index.json');
  if (!(await s3Exists(url))) return { format: 1, datasets: {} };
  const bytes = await s3Bytes(url);
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as IndexFile;
    if (doc.format !== 1 || typeof doc.datasets !== 'object') throw new Error('unknown format');
    return doc;
  } catch (e) {
    throw new KeelError('KEEL_E_PARSE', `dataset index ${url} is unreadable: ${(e as Error).message}`, {
      file: url,
    });
  }
}

async function writeS3Index(remote: string, index: IndexFile): Promise<void> {
  const { url, bucket, key } = s3Url(remote, 'index.json');
  try {
    await s3Client().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(index, null, 1)}\n`,
        ContentType: 'application/json',
      }),
    );
  } catch (e) {
    throw s3Error(url, e, 'dataset remote');
  }
}

/** Objects up to this size are uploaded in one request; larger ones in parts of this size. */
const S3_PART_BYTES = 16 * 2 ** 20;

/**
 * Upload a local object unless the remote has it, refusing local bytes that do not match their
 * name. Large objects go up as a multipart upload, one part in memory at a time; a failed upload
 * is aborted, so no half object is left behind.
 */
async function putS3Object(root: string, remote: string, hash: string, partBytes: number): Promise<boolean> {
  const { url, bucket, key } = s3Url(remote, 'objects', hash.slice(0, 2), hash);
  if (await s3Exists(url)) return false;
  const src = objectPath(root, hash);
  if (!existsSync(src))
    throw new KeelError('KEEL_E_NOT_FOUND', `object ${hash} is missing from ${root}`, { file: src });
  const got = await sha256File(src);
  if (got !== hash)
    throw new KeelError('KEEL_E_CONFLICT', `object ${src} is corrupt: its sha256 is ${got}`, { file: src });
  const size = statSync(src).size;
  const client = s3Client();
  try {
    // Buffer bodies: the SDK sends a stream as aws-chunked with a trailing checksum, which not
    // every S3-compatible server decodes
    if (size <= partBytes) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(src) }));
      return true;
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const fh = await open(src, 'r');
    try {
      const parts: { ETag: string | undefined; PartNumber: number }[] = [];
      const buf = Buffer.allocUnsafe(partBytes);
      for (let at = 0, n = 1; at < size; at += partBytes, n++) {
        const len = Math.min(partBytes, size - at);
        const { bytesRead } = await fh.read(buf, 0, len, at);
        if (bytesRead !== len)
          throw new KeelError('KEEL_E_STORE', `object ${src} shrank while it was uploaded`, { file: src });
        const part = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: n,
            Body: buf.subarray(0, len),
          }),
        );
        parts.push({ ETag: part.ETag, PartNumber: n });
      }
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (e) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw e;
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw e instanceof KeelError ? e : s3Error(url, e, 'dataset remote');
  }
  return true;
}

/** Download an object this store lacks, hashing it on the way; bytes that do not match are refused. */
async function getS3Object(remote: string, root: string, hash: string): Promise<boolean> {
  const dst = objectPath(root, hash);
  if (existsSync(dst)) return false;
  const { url, bucket, key } = s3Url(remote, 'objects', hash.slice(0, 2), hash);
  mkdirSync(join(root, 'objects', hash.slice(0, 2)), { recursive: true });
  const tmp = `${dst}.${process.pid}.tmp`;
  try {
    let got: GetObjectCommandOutput;
    try {
      got = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      const err = s3Error(url, e);
      if (err.code === 'KEEL_E_FILE_NOT_FOUND')
        throw new KeelError('KEEL_E_NOT_FOUND', `object ${hash} is missing from ${remote}`, { file: url });
      throw err;
    }
    let sum: string;
    try {
      ({ sha256: sum } = await streamToFile(got.Body as AsyncIterable<Uint8Array>, tmp));
    } catch (e) {
      throw s3Error(url, e);
    }
    if (sum !== hash)
      throw new KeelError('KEEL_E_CONFLICT', `object ${url} is corrupt: its sha256 is ${sum}`, { file: url });
    renameSync(tmp, dst);
    return true;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function openDatasetStore(root: string, options: DatasetStoreOptions = {}): DatasetStore {
  return new DatasetStore(root, options);
}
