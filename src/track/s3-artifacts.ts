/**
 * Content-addressed artifacts in an S3-compatible bucket: `s3://bucket/prefix` holds
 * <prefix>/<sha[0:2]>/<sha>, the same layout and the same refs (`uri` relative to the store) as the
 * local directory, so the same run records work over either. A PutObject is atomic (the object
 * appears whole or not at all), so no temporary key is needed; the same bytes are stored once.
 * Reads never leave the prefix, and reading by an ArtifactRef checks the bytes against its sha256.
 * Clients come from core/s3.ts (endpoint and credentials from the environment).
 */
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { KeelError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { parseS3Url, type S3Options, s3Client, s3Key } from '../core/s3.js';
import { checkArtifactUri } from './artifacts.js';
import type { ArtifactRef, ArtifactStore } from './types.js';

interface AwsError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  /** The key prefix ('' for the bucket root). */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly endpoint: string | undefined;

  /** url: `s3://bucket/prefix`; options override the environment's endpoint, region and credentials. */
  constructor(
    readonly url: string,
    options: S3Options = {},
  ) {
    const loc = parseS3Url(url);
    this.bucket = loc.bucket;
    this.prefix = loc.key;
    this.client = s3Client(options);
    this.endpoint = options.endpoint ?? process.env.KEEL_S3_ENDPOINT ?? process.env.AWS_ENDPOINT_URL;
  }

  /** Fails with KEEL_E_STORE unless the bucket exists and answers (the server checks this at start). */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const status = (e as AwsError).$metadata?.httpStatusCode;
      const why =
        status === 404
          ? `bucket "${this.bucket}" does not exist`
          : status === 403
            ? `access to bucket "${this.bucket}" is denied (check AWS credentials)`
            : describe(e);
      throw this.error(`artifact store ${this.where()} is not usable: ${why}`, e);
    }
  }

  async put(name: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const hash = sha256(bytes);
    const uri = `${hash.slice(0, 2)}/${hash}`;
    const key = this.key(uri);
    if (!(await this.has(key, `artifact ${name}`))) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            ContentType: 'application/octet-stream',
          }),
        );
      } catch (e) {
        throw this.error(`cannot write artifact ${name} to ${this.where()}: ${describe(e)}`, e);
      }
    }
    return { name, sha256: hash, size: bytes.length, uri };
  }

  async get(ref: ArtifactRef | string): Promise<Buffer> {
    const uri = typeof ref === 'string' ? ref : ref.uri;
    const key = this.key(uri);
    const label = typeof ref === 'string' ? ref : `${ref.name} (${ref.uri})`;
    let bytes: Buffer;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (e) {
      const err = e as AwsError;
      if (err.name === 'NoSuchKey' || err.Code === 'NoSuchKey')
        throw new KeelError('KEEL_E_NOT_FOUND', `artifact ${label} is missing from ${this.where()}`);
      throw this.error(`cannot read artifact ${label} from ${this.where()}: ${describe(e)}`, e);
    }
    if (typeof ref !== 'string' && sha256(bytes) !== ref.sha256)
      throw new KeelError(
        'KEEL_E_STORE',
        `artifact ${label} in ${this.where()} is corrupt: its sha256 is not ${ref.sha256}`,
      );
    return bytes;
  }

  async exists(ref: ArtifactRef | string): Promise<boolean> {
    const uri = typeof ref === 'string' ? ref : ref.uri;
    return this.has(this.key(uri), `artifact ${uri}`);
  }

  /** The object key of a ref's uri; refuses anything that would leave the prefix. */
  key(uri: string): string {
    checkArtifactUri(uri);
    return s3Key(this.prefix, uri);
  }

  private async has(key: string, what: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if ((e as AwsError).$metadata?.httpStatusCode === 404) return false;
      throw this.error(`cannot look up ${what} in ${this.where()}: ${describe(e)}`, e);
    }
  }

  /** The URL, and the endpoint when it is not AWS's own. */
  private where(): string {
    return this.endpoint ? `${this.url} at ${this.endpoint}` : this.url;
  }

  private error(message: string, cause: unknown): KeelError {
    return new KeelError('KEEL_E_STORE', message, {}, { cause });
  }
}

/** An SDK error in one line: its S3 code and message, or the network failure. */
function describe(e: unknown): string {
  const err = e as AwsError & { code?: string; errors?: { code?: string; message?: string }[] };
  const code = err.Code ?? err.code ?? (err.name && err.name !== 'Error' ? err.name : undefined);
  const inner = err.errors?.[0]; // AggregateError from a refused connection
  const message = err.message || inner?.message || String(e);
  const status = err.$metadata?.httpStatusCode;
  return [code, message, status ? `HTTP ${status}` : ''].filter(Boolean).join(': ');
}
