/**
 * Objects in an S3-compatible store as data sources: `s3://bucket/key.csv` (and .tsv, .parquet,
 * .json, .ndjson/.jsonl). The client comes from src/core/s3.ts (endpoint and credentials from the
 * environment). The object's bytes go through exactly the same reader as a local file (same
 * typing, validation, quarantine, and sha256 over the bytes), with the URL as the file name in
 * every report and error. Failures name the URL: no such bucket, no such object, no credentials,
 * an unreachable endpoint.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { KeelError } from '../core/errors.js';
import { isS3Url, parseS3Url, s3Client } from '../core/s3.js';

export { isS3Url };

/** A KeelError naming the URL for an S3 failure (missing bucket or key, credentials, network). */
export function s3Error(url: string, e: unknown, what = 'data object'): KeelError {
  if (e instanceof KeelError) return e;
  const err = e as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = err.name ?? err.Code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const { bucket } = parseS3Url(url);
  if (name === 'NoSuchBucket')
    return new KeelError(
      'KEEL_E_FILE_NOT_FOUND',
      `${url}: the bucket "${bucket}" does not exist`,
      { file: url },
      { cause: e },
    );
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404)
    return new KeelError('KEEL_E_FILE_NOT_FOUND', `${what} not found: ${url}`, { file: url }, { cause: e });
  if (name === 'CredentialsProviderError' || /credential/i.test(err.message ?? ''))
    return new KeelError(
      'KEEL_E_CONFIG',
      `${url}: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`,
      { file: url },
      { cause: e },
    );
  if (
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    status === 403
  )
    return new KeelError(
      'KEEL_E_CONFIG',
      `${url}: access denied (${name || status}); check the S3 credentials`,
      { file: url },
      { cause: e },
    );
  return new KeelError(
    'KEEL_E_STORE',
    `${url}: S3 request failed: ${name ? `${name}: ` : ''}${(err.message ?? String(e)).split('\n')[0]}`,
    { file: url },
    { cause: e },
  );
}

/** The object's bytes as a stream of chunks, and its size. */
export async function s3Object(url: string): Promise<{ size: number; body: AsyncIterable<Uint8Array> }> {
  const { bucket, key } = parseS3Url(url);
  if (key === '')
    throw new KeelError(
      'KEEL_E_USAGE',
      `${url} names a bucket, not an object (expected s3://bucket/key.csv)`,
      {
        file: url,
      },
    );
  try {
    const got = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = got.Body as Readable | undefined;
    if (!body) throw new KeelError('KEEL_E_STORE', `${url}: S3 returned no body`, { file: url });
    return { size: Number(got.ContentLength ?? 0), body: wrapErrors(url, body) };
  } catch (e) {
    throw s3Error(url, e);
  }
}

async function* wrapErrors(url: string, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (e) {
    throw s3Error(url, e);
  }
}

/** Whether the object exists (false for a missing key; other failures throw, naming the URL). */
export async function s3Exists(url: string): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  try {
    await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    const err = s3Error(url, e);
    if (err.code === 'KEEL_E_FILE_NOT_FOUND' && !/bucket/.test(err.message)) return false;
    throw err;
  }
}

/**
 * Download an object to a private temporary file (for readers that need a file: DuckDB's Parquet
 * and JSON readers); the caller removes it with `cleanup`.
 */
export async function s3ToTempFile(url: string, ext: string): Promise<{ path: string; cleanup: () => void }> {
  const { body } = await s3Object(url);
  const dir = mkdtempSync(join(tmpdir(), 'keel-s3-'));
  const path = join(dir, `object${ext}`);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await pipeline(Readable.from(body), createWriteStream(path));
  } catch (e) {
    cleanup();
    throw s3Error(url, e);
  }
  return { path, cleanup };
}

/** Whether a URL's key is a glob (`*`, `?`, `[...]`, `**`). */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * A glob over keys as a RegExp, as DuckDB's glob() reads one over paths: `*` and `?` stay within a
 * `/`-separated segment, `**` crosses segments, `[...]` is a character class.
 */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches no directory at all
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        re += `[${body[0] === '!' ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The objects an S3 URL glob names (`s3://bucket/data/*.csv`, `s3://bucket/logs/**\/*.parquet`),
 * sorted by key, with their sizes: listed under the key's prefix before its first glob character.
 */
export async function s3Glob(pattern: string): Promise<{ url: string; key: string; size: number }[]> {
  const { bucket, key } = parseS3Url(pattern);
  const first = key.search(/[*?[]/);
  const prefix = first < 0 ? key : key.slice(0, first);
  const re = globRegExp(key);
  const found: { url: string; key: string; size: number }[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3Client().send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined && re.test(o.Key))
          found.push({ url: `s3://${bucket}/${o.Key}`, key: o.Key, size: Number(o.Size ?? 0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (e) {
    throw s3Error(pattern, e);
  }
  if (found.length === 0)
    throw new KeelError('KEEL_E_FILE_NOT_FOUND', `no data object matches ${pattern}`, { file: pattern });
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Download the objects of a glob into a private temporary directory, named so that their order by
 * name is their keys' order (for DuckDB's Parquet and JSON readers); `cleanup` removes them.
 */
export async function s3GlobToTempDir(
  objects: readonly { url: string }[],
  ext: string,
): Promise<{ pattern: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-s3-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const width = String(objects.length).length;
    for (let i = 0; i < objects.length; i++) {
      const { body } = await s3Object(objects[i].url);
      await pipeline(
        Readable.from(body),
        createWriteStream(join(dir, `${String(i).padStart(width, '0')}${ext}`)),
      );
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  return { pattern: join(dir, `*${ext}`), cleanup };
}
