/**
 * A real S3-compatible server for tests: s3rver on 127.0.0.1 (port chosen by the OS), a fresh
 * directory, and the environment set so that s3Client() talks to it. Call stop() in afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { s3Client } from './s3.js';

export interface TestS3 {
  endpoint: string;
  /** Creates a bucket (names: 3-63 lowercase characters). */
  bucket(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const saved = {
    KEEL_S3_ENDPOINT: process.env.KEEL_S3_ENDPOINT,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
  };
  process.env.KEEL_S3_ENDPOINT = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  return {
    endpoint,
    async bucket(name) {
      await s3Client().send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      await server.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
