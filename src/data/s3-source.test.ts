/**
 * S3 objects as data sources and S3 prefixes as dataset remotes, against a real S3-compatible
 * server (s3rver on 127.0.0.1, started here): the same typing, validation, quarantine and sha256
 * as the local file, and clear errors for a missing bucket or object.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../core/hash.js';
import { s3Client } from '../core/s3.js';
import { startTestS3, type TestS3 } from '../core/s3.testkit.js';
import { openDatasetStore, parseSchema, readTable } from './index.js';
import { globRegExp } from './s3-source.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-s3-data-'));
let s3: TestS3;
let bucket: string;

const schema = parseSchema({
  target: { column: 'y', positive: 'yes', classes: ['no', 'yes'] },
  columns: [
    { name: 'id', type: 'string', unique: true },
    { name: 'x', type: 'number', min: 0 },
    { name: 'c', type: 'category', allowed: ['a', 'b'] },
    { name: 'y', type: 'category' },
  ],
});
const csv =
  'id,x,c,y\r\nC1,1,a,no\r\nC2,-5,b,yes\r\n"C3\nbis",3,"a, b",yes\r\nC1,4,a,no\r\nC5,oops,b,yes\r\nC6,6,b,yes\r\n';

async function put(key: string, body: Buffer | string): Promise<string> {
  await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body) }));
  return `s3://${bucket}/${key}`;
}

beforeAll(async () => {
  s3 = await startTestS3();
  bucket = await s3.bucket('keel-data');
});
afterAll(async () => {
  await s3.stop();
});

describe('readTable on s3://bucket/key', () => {
  it('reads a CSV object exactly as the same local file: frame, report, quarantine, sha256', async () => {
    const local = join(dir, 'dirty.csv');
    writeFileSync(local, csv);
    const url = await put('raw/dirty.csv', csv);
    const a = await readTable(local, schema);
    const b = await readTable(url, schema);
    expect(b.frame.toRecords()).toEqual(a.frame.toRecords());
    expect(b.frame.nRows).toBe(2);
    expect(b.report).toEqual({ ...a.report, file: url });
    expect(b.report.violations.map((v) => `${v.column}:${v.rule}:${v.rows.join('/')}`)).toEqual([
      'id:unique:6',
      'x:min:3',
      'x:type:7',
      'c:allowed:4',
    ]);
    expect(b.quarantine).toEqual(a.quarantine);
    expect([b.report.rows, b.report.kept, b.report.quarantined]).toEqual([6, 2, 4]);
    expect(b.source).toEqual({ ...a.source, path: url });
    expect(b.source.sha256).toBe(await sha256File(local));
  });

  it('reads TSV, NDJSON and Parquet objects through the same readers as local files', async () => {
    const tsv = await put('t/data.tsv', 'id\tx\tc\ty\nC1\t1\ta\tno\nC2\t2\tb\tyes\n');
    expect((await readTable(tsv, schema)).frame.toRecords()).toEqual([
      { id: 'C1', x: 1, c: 'a', y: 'no' },
      { id: 'C2', x: 2, c: 'b', y: 'yes' },
    ]);
    const nd = await put(
      't/data.ndjson',
      '{"id":"C1","x":1,"c":"a","y":"no"}\n{"id":"C2","x":-1,"c":"b","y":"yes"}\n',
    );
    const r = await readTable(nd, schema);
    expect(r.report).toMatchObject({ file: nd, rows: 2, kept: 1, quarantined: 1 });
    expect(r.report.violations[0]).toMatchObject({ rule: 'min', column: 'x', rows: [2] });
    const pq = join(dir, 'p.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    await con.run(
      `COPY (SELECT 'C' || i AS id, i * 1.5 AS x, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS c, CASE WHEN i % 2 = 0 THEN 'no' ELSE 'yes' END AS y FROM range(4) t(i)) TO '${pq}' (FORMAT parquet)`,
    );
    con.closeSync();
    instance.closeSync();
    const url = await put('t/p.parquet', readFileSync(pq));
    const a = await readTable(pq, schema);
    const b = await readTable(url, schema);
    expect(b.frame.toRecords()).toEqual(a.frame.toRecords());
    expect(b.source).toEqual({ ...a.source, path: url });
  });

  it('names the URL when the bucket or the object is missing', async () => {
    await expect(readTable('s3://no-such-bucket/a.csv', schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: 's3://no-such-bucket/a.csv: the bucket "no-such-bucket" does not exist',
      where: { file: 's3://no-such-bucket/a.csv' },
    });
    await expect(readTable(`s3://${bucket}/missing.csv`, schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: `data object not found: s3://${bucket}/missing.csv`,
    });
    await expect(readTable(`s3://${bucket}/missing.parquet`, schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
    });
    // a glob that names no object (`*` does not cross a `/`)
    await expect(readTable(`s3://${bucket}/*.csv`, schema)).rejects.toMatchObject({
      code: 'KEEL_E_FILE_NOT_FOUND',
      message: `no data object matches s3://${bucket}/*.csv`,
    });
  });

  it('reads a glob of CSV objects in key order as one file, the same as the local glob', async () => {
    const parts = ['id,x,c,y\nC1,1,a,no\nC2,2,b,yes\n', 'id,x,c,y\nC3,-3,a,yes\n', 'id,x,c,y\r\nC4,4,b,no'];
    const local = mkdtempSync(join(tmpdir(), 'keel-s3-glob-'));
    for (const [i, body] of parts.entries()) {
      writeFileSync(join(local, `part-${i}.csv`), body);
      await put(`glob/part-${i}.csv`, body);
    }
    await put('glob/notes.txt', 'not data');
    await put('glob/deeper/part-9.csv', 'id,x,c,y\nC9,9,a,no\n');
    const a = await readTable(join(local, 'part-*.csv'), schema);
    const url = `s3://${bucket}/glob/part-*.csv`;
    const b = await readTable(url, schema);
    expect(b.frame.toRecords()).toEqual(a.frame.toRecords());
    expect(b.frame.toRecords().map((r) => r.id)).toEqual(['C1', 'C2', 'C4']);
    // line numbers count through the objects as one file with one header
    expect(b.report.violations).toEqual(a.report.violations);
    expect(b.report.violations[0]).toMatchObject({ rule: 'min', column: 'x', rows: [4] });
    expect(b.source.sha256).toBe(a.source.sha256);
    // ** crosses directories; objects come in key order (glob/deeper/… before glob/part-…)
    const deep = await readTable(`s3://${bucket}/glob/**/part-*.csv`, schema);
    expect(deep.frame.toRecords().map((r) => r.id)).toEqual(['C9', 'C1', 'C2', 'C4']);
    // an object whose header differs is named by its URL
    await put('glob2/a.csv', 'id,x,c,y\nC1,1,a,no\n');
    await put('glob2/b.csv', 'id,x,y,c\nC2,2,no,a\n');
    await expect(readTable(`s3://${bucket}/glob2/*.csv`, schema)).rejects.toMatchObject({
      code: 'KEEL_E_PARSE',
      where: { file: `s3://${bucket}/glob2/b.csv`, row: 1 },
    });
    rmSync(local, { recursive: true, force: true });
  });

  it('reads a glob of Parquet objects as DuckDB reads the same local files', async () => {
    const local = mkdtempSync(join(tmpdir(), 'keel-s3-pq-'));
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    for (const k of [0, 1]) {
      const f = join(local, `p${k}.parquet`);
      await con.run(
        `COPY (SELECT 'C' || (i + ${k * 10}) AS id, i * 1.5 AS x, 'a' AS c, CASE WHEN i % 2 = 0 THEN 'no' ELSE 'yes' END AS y FROM range(3) t(i)) TO '${f}' (FORMAT parquet)`,
      );
      await put(`pq/p${k}.parquet`, readFileSync(f));
    }
    con.closeSync();
    instance.closeSync();
    const a = await readTable(join(local, '*.parquet'), schema);
    const url = `s3://${bucket}/pq/*.parquet`;
    const b = await readTable(url, schema);
    expect(b.frame.nRows).toBe(6);
    expect(b.frame.toRecords()).toEqual(a.frame.toRecords());
    expect(b.source).toEqual({ ...a.source, path: url });
    expect(b.report.file).toBe(url);
    rmSync(local, { recursive: true, force: true });
  });

  it('bad input in an object is named by its URL, line and column', async () => {
    const url = await put('bad/ragged.csv', 'id,x,c,y\nC1,1,a,no\nC2,2\n');
    await expect(readTable(url, schema)).rejects.toMatchObject({
      code: 'KEEL_E_PARSE',
      message: `${url}: line 3 (data row 2) has 2 fields, the header has 4 (no value for column "c")`,
      where: { file: url, row: 3, column: 'c' },
    });
    const empty = await put('bad/empty.csv', '');
    await expect(readTable(empty, schema)).rejects.toMatchObject({ message: `${empty} is empty` });
  });
});

describe('globRegExp', () => {
  it('reads globs over keys as DuckDB does over paths', () => {
    const m = (g: string, k: string) => globRegExp(g).test(k);
    expect(m('data/*.csv', 'data/a.csv')).toBe(true);
    expect(m('data/*.csv', 'data/x/a.csv')).toBe(false);
    expect(m('data/**/*.csv', 'data/x/y/a.csv')).toBe(true);
    expect(m('data/**/*.csv', 'data/a.csv')).toBe(true);
    expect(m('data/?.csv', 'data/ab.csv')).toBe(false);
    expect(m('data/[ab].csv', 'data/b.csv')).toBe(true);
    expect(m('data/[!ab].csv', 'data/b.csv')).toBe(false);
    expect(m('data/a+b(1).csv', 'data/a+b(1).csv')).toBe(true);
    expect(m('data/*.csv', 'data/a.csvx')).toBe(false);
  });
});

describe('dataset versions with an S3 remote', () => {
  it('pushes and pulls s3://bucket/prefix, checking hashes and merging versions', async () => {
    const remote = `s3://${await s3.bucket('keel-datasets')}/team/churn`;
    const alice = openDatasetStore(join(dir, 'alice'));
    const bob = openDatasetStore(join(dir, 'bob'));
    const v1 = join(dir, 'v1.csv');
    writeFileSync(v1, 'id,x\n1,1.5\n2,2.5\n3,3.5\n');
    await alice.add(v1, 'churn');
    expect(await alice.pushRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(await alice.pushRemote(remote)).toEqual({ objects: 0, versions: 0 });
    await expect(bob.pullRemote(`s3://keel-datasets/elsewhere`)).rejects.toThrow(/not a dataset remote/);
    expect(await bob.pullRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(readFileSync(bob.path(bob.get('churn@1')), 'utf8')).toBe(readFileSync(v1, 'utf8'));
    // concurrent version 2s: the first push keeps 2, the other becomes 3
    const v2 = join(dir, 'v2.csv');
    writeFileSync(v2, 'id,x\n1,1.5\n2,2.5\n3,3.5\n4,4.5\n');
    const v3 = join(dir, 'v3.csv');
    writeFileSync(v3, 'id,x\n1,1.5\n');
    await bob.add(v2, 'churn');
    await alice.add(v3, 'churn');
    expect(await bob.pushRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(await alice.pushRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(await bob.pullRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(bob.list('churn').map((v) => [v.version, v.rows])).toEqual([
      [1, 3],
      [2, 4],
      [3, 1],
    ]);
    expect(alice.list('churn').map((v) => v.sha256)).toEqual(bob.list('churn').map((v) => v.sha256));
    // the remote's layout is the directory remote's: index.json and objects/ab/<sha256>
    const idx = await s3Client().send(
      new GetObjectCommand({ Bucket: 'keel-datasets', Key: 'team/churn/index.json' }),
    );
    expect(Object.keys(JSON.parse(await idx.Body!.transformToString()).datasets)).toEqual(['churn']);
    // a tampered object on the remote is refused and not stored
    const h = alice.get('churn@3').sha256;
    await s3Client().send(
      new PutObjectCommand({
        Bucket: 'keel-datasets',
        Key: `team/churn/objects/${h.slice(0, 2)}/${h}`,
        Body: 'x',
      }),
    );
    const carol = openDatasetStore(join(dir, 'carol'));
    await expect(carol.pullRemote(remote)).rejects.toThrow(/is corrupt: its sha256 is/);
    expect(() => readFileSync(carol.path(alice.get('churn@3')))).toThrow();
  });
  it('uploads a large object in parts and downloads it whole, with the same sha256', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-s3-mp-'));
    // parts of 64 KiB: a ~300 KB file goes up as five parts, the last one short
    const alice = openDatasetStore(join(dir, 'alice'), { s3PartBytes: 64 * 1024 });
    const bob = openDatasetStore(join(dir, 'bob'));
    const big = join(dir, 'big.csv');
    const lines = ['id,x'];
    for (let i = 0; i < 30_000; i++) lines.push(`${i},${(i * 0.37).toFixed(3)}`);
    writeFileSync(big, `${lines.join('\n')}\n`);
    const { version } = await alice.add(big, 'big');
    expect(version.bytes).toBeGreaterThan(4 * 64 * 1024);
    const remote = 's3://keel-datasets/multipart';
    const sent: string[] = [];
    s3Client().middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    try {
      expect(await alice.pushRemote(remote)).toEqual({ objects: 1, versions: 1 });
    } finally {
      s3Client().middlewareStack.remove('countCommands');
    }
    const parts = Math.ceil(version.bytes / (64 * 1024));
    expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(parts);
    expect(sent).toContain('CompleteMultipartUploadCommand');
    const h = version.sha256;
    const got = await s3Client().send(
      new GetObjectCommand({ Bucket: 'keel-datasets', Key: `multipart/objects/${h.slice(0, 2)}/${h}` }),
    );
    expect(Number(got.ContentLength)).toBe(version.bytes);
    await got.Body!.transformToByteArray();
    expect(await bob.pullRemote(remote)).toEqual({ objects: 1, versions: 1 });
    expect(readFileSync(bob.path(bob.get('big@1')))).toEqual(readFileSync(big));
    rmSync(dir, { recursive: true, force: true });
  });
});
