import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchemas, pgReachable, pgUrl } from '../track/pg.testkit.js';
import { readPostgres } from './postgres-source.js';
import { parseSchema } from './schema.js';
import { readTable } from './table.js';

const reachable = await pgReachable();
const fresh = freshSchemas('keel_datasrc');
const schemaName = fresh();

describe.skipIf(!reachable)('PostgreSQL as a data source', () => {
  beforeAll(async () => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schemaName}`);
    await c.query(
      `CREATE TABLE ${schemaName}.customers (id int, tenure int, charges double precision, plan text, senior boolean, churn text)`,
    );
    await c.query(
      `INSERT INTO ${schemaName}.customers VALUES
        (1, 3, 29.5, 'basic', false, 'Yes'),
        (2, 40, 80.25, 'premium', true, 'No'),
        (3, -5, 50, 'basic', false, 'No'),
        (4, 12, NULL, 'weird', false, 'No'),
        (5, 70, 99.9, 'premium', true, 'No')`,
    );
    await c.end();
  });
  afterAll(() => {});

  const url = (q: string) => `${pgUrl}?${q}`;
  const schema = parseSchema({
    columns: [
      { name: 'id', type: 'integer', role: 'id' },
      { name: 'tenure', type: 'integer', min: 0 },
      { name: 'charges', type: 'number', nullable: true },
      { name: 'plan', type: 'category', allowed: ['basic', 'premium'] },
      { name: 'senior', type: 'boolean' },
      { name: 'churn', type: 'category', allowed: ['No', 'Yes'] },
    ],
    target: { column: 'churn', positive: 'Yes', classes: ['No', 'Yes'] },
  });

  it('reads a table under a schema: bad rows quarantined with their row numbers, the rest typed', async () => {
    const r = await readTable(url(`table=${schemaName}.customers`), schema);
    expect(r.frame.nRows).toBe(3);
    expect(r.report.quarantined).toBe(2);
    expect(r.quarantine.lines).toEqual([3, 4]);
    expect(r.quarantine.reasons.join(' ')).toMatch(/tenure/);
    expect(r.quarantine.reasons.join(' ')).toMatch(/plan/);
    expect(Array.from(r.frame.numeric('tenure'))).toEqual([3, 40, 70]);
    expect(Array.from(r.frame.numeric('senior'))).toEqual([0, 1, 1]);
    expect(r.source.path).toContain(`?table=${schemaName}.customers`);
    expect(r.source.path).not.toContain('password');
    expect(r.source.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads a query, infers PostgreSQL types without a schema, and hashes content not connections', async () => {
    const q = encodeURIComponent(
      `SELECT tenure, charges, senior FROM ${schemaName}.customers WHERE id <> 4 ORDER BY id`,
    );
    const a = await readPostgres(url(`query=${q}`));
    expect(a.schema.columns.map((c) => [c.name, c.type])).toEqual([
      ['tenure', 'integer'],
      ['charges', 'number'],
      ['senior', 'boolean'],
    ]);
    expect(a.frame.nRows).toBe(4);
    const again = await readPostgres(url(`query=${q}`));
    expect(again.source.sha256).toBe(a.source.sha256);
    const other = await readPostgres(
      url(
        `query=${encodeURIComponent(`SELECT tenure, charges, senior FROM ${schemaName}.customers ORDER BY id`)}`,
      ),
    );
    expect(other.source.sha256).not.toBe(a.source.sha256);
  });

  it('names the problem: no table or query, a bad table name, a missing table, an empty result', async () => {
    await expect(readPostgres(pgUrl)).rejects.toThrow(/exactly one of \?table=NAME or \?query=/);
    await expect(readPostgres(url('table=x;drop'))).rejects.toThrow(/must be NAME or SCHEMA.NAME/);
    await expect(readPostgres(url(`table=${schemaName}.nope`))).rejects.toThrow(/nope.*does not exist/);
    await expect(
      readPostgres(url(`query=${encodeURIComponent(`SELECT * FROM ${schemaName}.customers WHERE false`)}`)),
    ).rejects.toThrow(/has no rows/);
  });
});
