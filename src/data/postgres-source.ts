/**
 * A PostgreSQL table or query as a data source: `postgres://user@host:5432/db?table=churn`
 * (optionally `schema.table`) or `...?query=SELECT ...` (URL-encoded). Rows go through the same
 * typing, validation and quarantine as files; PostgreSQL's integer, floating-point/numeric and
 * boolean column types are kept when no schema is given. The dataset's sha256 is over its content
 * (header and cells), so the same rows give the same hash from any connection. Row numbers in
 * reports are 1-based result-row numbers.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { KeelError } from '../core/errors.js';
import { checkExpectations } from './expectations.js';
import { inferSchemaFromRows } from './infer.js';
import type { DataProfile } from './profile.js';
import type { ReadResult } from './read.js';
import type { ColumnType, Schema } from './schema.js';
import { typeAndValidate } from './validate.js';

/** Whether a path names a PostgreSQL source. */
export function isPostgresSource(path: string): boolean {
  return /^postgres(ql)?:\/\//.test(path);
}

const INTEGER_OIDS = new Set([20, 21, 23]); // int8, int2, int4
const NUMBER_OIDS = new Set([700, 701, 1700]); // float4, float8, numeric
const BOOL_OID = 16;

function describe(url: URL, table: string | null): string {
  const safe = new URL(url.toString());
  safe.password = '';
  safe.search = '';
  return `${safe.toString()}${table ? `?table=${table}` : '?query'}`;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return JSON.stringify(v);
}

export async function readPostgres(
  source: string,
  schema?: Schema,
  options: { reference?: DataProfile } = {},
): Promise<ReadResult> {
  const url = new URL(source);
  const table = url.searchParams.get('table');
  const query = url.searchParams.get('query');
  if ((table === null) === (query === null))
    throw new KeelError(
      'KEEL_E_USAGE',
      `${describe(url, null)}: name exactly one of ?table=NAME or ?query=SELECT… (URL-encoded)`,
    );
  if (table !== null && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table))
    throw new KeelError('KEEL_E_USAGE', `table "${table}" must be NAME or SCHEMA.NAME (letters, digits, _)`);
  const where = describe(url, table);
  const conn = new URL(url.toString());
  conn.search = '';
  const client = new pg.Client({ connectionString: conn.toString(), connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  let result: pg.QueryResult;
  try {
    await client.connect();
  } catch (e) {
    throw new KeelError(
      'KEEL_E_STORE',
      `cannot connect to ${where}: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
  try {
    const sql =
      table !== null
        ? `SELECT * FROM ${table
            .split('.')
            .map((p) => `"${p}"`)
            .join('.')}`
        : (query as string);
    result = await client.query({ text: sql, rowMode: 'array' });
  } catch (e) {
    throw new KeelError('KEEL_E_PARSE', `${where}: ${(e as Error).message}`, { file: where }, { cause: e });
  } finally {
    await client.end().catch(() => {});
  }
  const header = result.fields.map((f) => f.name);
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h))
      throw new KeelError('KEEL_E_PARSE', `${where}: duplicate column name "${h}"`, {
        file: where,
        column: h,
      });
    seen.add(h);
  }
  const raw = result.rows as unknown[][];
  if (raw.length === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${where} has no rows`, { file: where });
  const rows = raw.map((r) => r.map(cellText));
  const hash = createHash('sha256').update(header.join('\u001f'));
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    // NULL and '' differ in the hash
    const line = `\u001e${rows[i].map((c, k) => (raw[i][k] === null ? '\u0000' : c)).join('\u001f')}`;
    bytes += Buffer.byteLength(line);
    hash.update(line);
  }
  const used =
    schema ??
    inferFromPostgres(
      header,
      result.fields.map((f) => f.dataTypeID),
      rows,
    );
  const lines = Int32Array.from({ length: rows.length }, (_, r) => r + 1);
  const typed = typeAndValidate(header, rows, used, where, lines);
  const report = checkExpectations(typed.report, typed.frame, used, options.reference);
  return {
    frame: typed.frame,
    report,
    quarantine: typed.quarantine,
    schema: used,
    source: { path: where, sha256: hash.digest('hex'), rows: typed.frame.nRows, bytes },
  };
}

function inferFromPostgres(header: string[], oids: number[], rows: string[][]): Schema {
  const inferred = inferSchemaFromRows(header, rows);
  inferred.columns = inferred.columns.map((c, k) => {
    const oid = oids[k];
    const type: ColumnType | null = INTEGER_OIDS.has(oid)
      ? 'integer'
      : NUMBER_OIDS.has(oid)
        ? 'number'
        : oid === BOOL_OID
          ? 'boolean'
          : null;
    if (type === null) return c;
    const { allowed: _, unique: __, ...rest } = c;
    return { ...rest, type, role: 'feature' };
  });
  return inferred;
}
