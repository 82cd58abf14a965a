import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isS3Url, parseS3Url, s3Client, s3Key } from './s3.js';
import { startTestS3, type TestS3 } from './s3.testkit.js';

describe('S3 URLs', () => {
  it('parses bucket and prefix', () => {
    expect(parseS3Url('s3://models/runs/abc/')).toEqual({ bucket: 'models', key: 'runs/abc' });
    expect(parseS3Url('s3://models')).toEqual({ bucket: 'models', key: '' });
    expect(isS3Url('s3://x/y')).toBe(true);
    expect(isS3Url('/tmp/x')).toBe(false);
  });
  it('refuses what is not an S3 URL, naming it', () => {
    expect(() => parseS3Url('http://models/x')).toThrow(/not an S3 URL: http:\/\/models\/x/);
  });
  it('joins keys with single slashes', () => {
    expect(s3Key('a/', '/b/c/', '', 'd')).toBe('a/b/c/d');
  });
});

describe('the test S3 server', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(async () => {
    await s3.stop();
  });
  it('stores and returns an object through s3Client()', async () => {
    const bucket = await s3.bucket('keel-core-test');
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: 'hello' }));
    const got = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });
});
