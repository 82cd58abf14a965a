/**
 * The one place Keel makes S3 clients: `s3://bucket/prefix` URLs, endpoint and credentials from
 * the environment (AWS SDK v3's own chain, plus KEEL_S3_ENDPOINT or AWS_ENDPOINT_URL for
 * S3-compatible servers, which also turns on path-style addressing). The artifact store
 * (src/track) and the data sources (src/data) both use it.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { KeelError } from './errors.js';

// The SDK warns on every client that Node 20 leaves support in 2027; that is not the user's concern.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3Location {
  bucket: string;
  /** Key prefix without a leading slash; '' for the bucket root. */
  key: string;
}

/** Parses `s3://bucket/some/prefix` (a trailing slash is kept off the key). */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/?#]+)\/?([^?#]*)$/.exec(url);
  if (!m) {
    throw new KeelError('KEEL_E_USAGE', `not an S3 URL: ${url} (expected s3://bucket/prefix)`);
  }
  return { bucket: m[1] as string, key: (m[2] as string).replace(/\/+$/, '') };
}

export function isS3Url(url: string): boolean {
  return url.startsWith('s3://');
}

export interface S3Options {
  /** An S3-compatible endpoint such as http://127.0.0.1:9000; defaults to KEEL_S3_ENDPOINT or AWS_ENDPOINT_URL. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const clients = new Map<string, S3Client>();

/** One client per endpoint/region/credentials, reused (clients hold connection pools). */
export function s3Client(options: S3Options = {}): S3Client {
  const endpoint = options.endpoint ?? process.env.KEEL_S3_ENDPOINT ?? process.env.AWS_ENDPOINT_URL;
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const key = JSON.stringify([endpoint ?? '', region, options.credentials?.accessKeyId ?? '']);
  let client = clients.get(key);
  if (!client) {
    const config: S3ClientConfig = { region };
    if (endpoint) {
      config.endpoint = endpoint;
      config.forcePathStyle = true;
    }
    if (options.credentials) config.credentials = options.credentials;
    client = new S3Client(config);
    clients.set(key, client);
  }
  return client;
}

/** Joins key parts with single slashes. */
export function s3Key(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}
