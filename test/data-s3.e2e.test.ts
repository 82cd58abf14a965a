/**
 * keel data validate / profile / infer-schema / add / push / pull with S3 URLs, against a real
 * S3-compatible server started here; a subprocess without credentials gets a clear error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../src/core/s3.js';
import { startTestS3, type TestS3 } from '../src/core/s3.testkit.js';
import { keel } from './cli.js';
import { keelIn } from './keel-in.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-s3-'));
const cwd = process.cwd();
let s3: TestS3;
const schema = join(dir, 'schema.yaml');
const url = 's3://keel-e2e/in/dirty.csv';

beforeAll(async () => {
  s3 = await startTestS3();
  await s3.bucket('keel-e2e');
  await s3Client().send(
    new PutObjectCommand({
      Bucket: 'keel-e2e',
      Key: 'in/dirty.csv',
      Body: Buffer.from('id,x,c\nC1,1,a\nC2,-5,b\nC3,3,a\nC4,4,b\n'),
    }),
  );
  writeFileSync(
    schema,
    'columns:\n  - { name: id, type: string }\n  - { name: x, type: number, min: 0 }\n  - { name: c, type: category, allowed: [a, b] }\n',
  );
  process.chdir(dir);
  writeFileSync(join(dir, 'keel.yaml'), 'project: s3e2e\n');
});
afterAll(async () => {
  process.chdir(cwd);
  await s3.stop();
});

describe('keel data with s3:// URLs', () => {
  it('validate, profile and infer-schema read the object', async () => {
    const v = await keelIn('data', 'validate', url, '--schema', schema, '--json');
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ file: url, rows: 4, kept: 3, quarantined: 1 });
    expect((await keelIn('data', 'validate', url, '--schema', schema, '--strict')).code).toBe(1);
    const p = await keelIn('data', 'profile', url, '--json');
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out)).toMatchObject({
      rows: 4,
      columns: [{ name: 'id' }, { name: 'x', min: -5 }, { name: 'c' }],
    });
    const i = await keelIn('data', 'infer-schema', url);
    expect(i.code).toBe(0);
    expect(i.out).toMatch(/name: x\n\s+nullable: false\n\s+role: feature\n\s+type: integer/);
    const missing = await keelIn('data', 'validate', 's3://keel-e2e/nope.csv', '--schema', schema);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error: data object not found: s3://keel-e2e/nope.csv\n');
  });

  it('add an object, push to and pull from an S3 remote', async () => {
    const a = await keelIn('data', 'add', url, '--name', 'dirty', '--json');
    expect(a.code).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ name: 'dirty', version: 1, file: 'dirty.csv', rows: 4 });
    const remote = `s3://${await s3.bucket('keel-e2e-remote')}/ds`;
    expect((await keelIn('data', 'push', remote)).out).toBe(`pushed 1 object, 1 new version to ${remote}\n`);
    const other = mkdtempSync(join(tmpdir(), 'keel-data-s3-other-'));
    writeFileSync(join(other, 'keel.yaml'), 'project: other\n');
    process.chdir(other);
    try {
      expect((await keelIn('data', 'pull', remote)).out).toBe(
        `pulled 1 object, 1 new version from ${remote}\n`,
      );
      expect((await keelIn('data', 'ls')).out).toMatch(/dirty +1 /);
    } finally {
      process.chdir(dir);
    }
  });

  it('without credentials: a clear error and exit 2, no stack trace', () => {
    const r = keel(['data', 'validate', url, '--schema', schema], dir, {
      KEEL_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(r.stderr).toBe(
      `error: ${url}: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)\n`,
    );
    expect(r.code).toBe(2);
  });
});
