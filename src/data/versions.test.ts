import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../core/hash.js';
import { openDatasetStore, parseSchema, schemaHash } from './index.js';

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
function csv(dir: string, name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const v1 = 'id,x,c\n1,1.5,a\n2,2.5,b\n3,3.5,a\n';
const v2 = 'id,x,c,extra\n1,10,a,z\n2,20,b,z\n3,30,c,z\n4,40,,z\n';

describe('DatasetStore', () => {
  it('stores bytes by sha256; the same bytes under another file name add nothing', async () => {
    const work = tmp('keel-ds-');
    const store = openDatasetStore(join(work, '.keel', 'datasets'));
    const f = csv(work, 'churn.csv', v1);
    const a = await store.add(f, 'churn');
    expect(a.created).toBe(true);
    expect(a.version).toMatchObject({
      name: 'churn',
      version: 1,
      sha256: sha256(v1),
      rows: 3,
      columns: 3,
      file: 'churn.csv',
    });
    expect(readFileSync(store.path(a.version), 'utf8')).toBe(v1);
    expect(store.path(a.version)).toBe(join(store.root, 'objects', sha256(v1).slice(0, 2), sha256(v1)));
    expect(a.version.profile.columns.find((c) => c.name === 'x')?.mean).toBe(2.5);
    expect(a.version.schema_sha256).toBe(schemaHash(a.version.schema));
    const again = await store.add(csv(work, 'renamed.csv', v1), 'churn');
    expect(again).toMatchObject({ created: false, version: { version: 1 } });
    const b = await store.add(csv(work, 'churn.csv', v2), 'churn');
    expect(b.version.version).toBe(2);
    expect(store.list('churn').map((v) => v.version)).toEqual([1, 2]);
    expect(store.get('churn').version).toBe(2);
    expect(store.get('churn@1').sha256).toBe(sha256(v1));
    expect(store.get(`churn@${sha256(v1).slice(0, 8)}`).version).toBe(1);
    expect(() => store.get('churn@7')).toThrow(/dataset "churn@7" not found \(versions of churn: 1, 2\)/);
    expect(() => store.get('nope')).toThrow(/no dataset named "nope"/);
    await expect(store.add(f, 'bad name')).rejects.toThrow(/must be letters/);
    // a schema is used for validation, typing and its hash
    const schema = parseSchema({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'x', type: 'number' },
        { name: 'c', type: 'category', allowed: ['a', 'b'] },
      ],
    });
    const typed = await store.add(f, 'typed', schema);
    expect(typed.version.schema_sha256).toBe(schemaHash(schema));
    expect(schemaHash(parseSchema(JSON.parse(JSON.stringify(schema))))).toBe(schemaHash(schema));
  });

  it('diffs schema and statistics, with the row-count delta and PSI', async () => {
    const work = tmp('keel-ds-');
    const store = openDatasetStore(join(work, 'ds'));
    await store.add(csv(work, 'a.csv', v1), 'd');
    await store.add(csv(work, 'b.csv', v2), 'd');
    const d = await store.diff('d@1', 'd@2');
    expect(d).toMatchObject({
      a: { ref: 'd@1', rows: 3 },
      b: { ref: 'd@2', rows: 4 },
      rows_delta: 1,
      same_content: false,
    });
    const by = Object.fromEntries(d.columns.map((c) => [c.column, c]));
    expect(by.extra).toMatchObject({ change: 'added' });
    expect(by.c.schema).toEqual(['nullable false -> true', 'allowed + c']);
    expect(by.c.stats).toEqual({ missing: { a: 0, b: 1 }, distinct: { a: 2, b: 3 } }); // count unchanged
    expect(by.x.stats.mean).toEqual({ a: 2.5, b: 25 });
    expect(by.x.schema).toEqual(['type number -> integer']);
    // B's x is entirely above A's range: re-binned on A's edges it all lands in the last bin
    expect(by.x.psi).toBeGreaterThan(1);
    expect(by.id.stats).toMatchObject({ count: { a: 3, b: 4 } });
    const same = await store.diff('d@2', 'd');
    expect(same).toMatchObject({ rows_delta: 0, same_content: true, columns: [] });
  });

  it('versions Parquet and JSON files too, and diffs across formats', async () => {
    const work = tmp('keel-ds-');
    const store = openDatasetStore(join(work, 'ds'));
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    const pq = join(work, 'd.parquet');
    await con.run(`COPY (SELECT i AS id, i * 10.0 AS x FROM range(1, 6) t(i)) TO '${pq}' (FORMAT parquet)`);
    con.closeSync();
    instance.closeSync();
    const json = csv(work, 'd.ndjson', '{"id": 1, "x": 1}\n{"id": 2, "x": 2}\n');
    const a = await store.add(pq, 'mixed');
    expect(a.version).toMatchObject({ format: 'parquet', rows: 5, sha256: sha256(readFileSync(pq)) });
    const b = await store.add(json, 'mixed');
    expect(b.version).toMatchObject({ version: 2, format: 'ndjson', rows: 2 });
    const d = await store.diff('mixed@1', 'mixed@2');
    expect(d.rows_delta).toBe(-3);
    expect(d.columns.find((c) => c.column === 'x')?.stats.mean).toEqual({ a: 30, b: 1.5 });
    await expect(store.add(join(work, '*.parquet'), 'g')).rejects.toThrow(/not a glob/);
  });

  it('pushes to and pulls from a directory remote, checking hashes and merging versions', async () => {
    const work = tmp('keel-ds-');
    const remote = join(work, 'remote');
    const alice = openDatasetStore(join(work, 'alice'));
    const bob = openDatasetStore(join(work, 'bob'));
    await alice.add(csv(work, 'a.csv', v1), 'churn');
    await expect(alice.push(remote)).resolves.toEqual({ objects: 1, versions: 1 });
    await expect(alice.push(remote)).resolves.toEqual({ objects: 0, versions: 0 });
    await expect(Promise.resolve().then(() => bob.pull(join(work, 'nowhere')))).rejects.toThrow(
      /not a dataset remote/,
    );
    await expect(bob.pull(remote)).resolves.toEqual({ objects: 1, versions: 1 });
    expect(readFileSync(bob.path(bob.get('churn@1')), 'utf8')).toBe(v1);
    // both add a different version 2: the first to push keeps 2, the other becomes 3
    await bob.add(csv(work, 'b.csv', v2), 'churn');
    await alice.add(csv(work, 'c.csv', `${v1}4,4.5,b\n`), 'churn');
    await expect(bob.push(remote)).resolves.toEqual({ objects: 1, versions: 1 });
    await expect(alice.push(remote)).resolves.toEqual({ objects: 1, versions: 1 });
    const r = openDatasetStore(remote);
    expect(r.list('churn').map((v) => [v.version, v.rows])).toEqual([
      [1, 3],
      [2, 4],
      [3, 4],
    ]);
    expect(alice.list('churn').map((v) => v.sha256)).toEqual(r.list('churn').map((v) => v.sha256));
    await expect(bob.pull(remote)).resolves.toEqual({ objects: 1, versions: 1 });
    expect(bob.list('churn').map((v) => v.sha256)).toEqual(r.list('churn').map((v) => v.sha256));
    // a corrupt object in the remote is refused
    const carol = openDatasetStore(join(work, 'carol'));
    writeFileSync(r.path(r.get('churn@3')), 'tampered');
    await expect(carol.pull(remote)).rejects.toThrow(/is corrupt: its sha256 is/);
    expect(existsSync(carol.path(r.get('churn@3')))).toBe(false);
  });
});
