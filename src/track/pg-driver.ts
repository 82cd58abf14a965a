/**
 * The SqlDriver over PostgreSQL (node-postgres pool). Writes run in SERIALIZABLE transactions and
 * are retried on serialization failures, so concurrent createModelVersion calls never pick the same
 * number; reads run on a REPEATABLE READ snapshot. BIGINT columns come back as numbers. With a
 * schema name every connection works inside that schema (created if missing), which keeps test
 * runs and tenants apart in one database.
 */
import pg from 'pg';
import { KeelError } from '../core/errors.js';
import { postgresDialect, type SqlConn, type SqlDriver } from './sql.js';

const INT8 = 20;
const MAX_PARAMS = 65_535; // PostgreSQL's limit of bound parameters per statement
const ROWS_PER_INSERT = 2000;
const MIGRATION_LOCK = 7_260_311; // session advisory lock key while migrations run (taken before BEGIN)

export interface PgDriverOptions {
  /** Work inside this schema (created if it does not exist). */
  schema?: string;
  /** Pool size (default 4). */
  max?: number;
}

export class PgDriver implements SqlDriver {
  readonly dialect = postgresDialect;
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;
  /** While true (during migrations), every write also takes an advisory lock, so two processes opening one database migrate in turn. */
  exclusive = true;

  constructor(
    readonly url: string,
    options: PgDriverOptions = {},
  ) {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new KeelError(
        'KEEL_E_CONFIG',
        `PostgreSQL schema name "${schema}" must be lower-case letters, digits and _`,
      );
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 4,
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
      },
    });
    this.pool.on('error', () => {}); // idle client errors surface on the next query instead
    // JIT compilation costs ~35 ms per query and only pays off on long analytic scans: off.
    // extra_float_digits = 1: doubles as text in their shortest exact form (the default since
    // PostgreSQL 12, set in case a server says otherwise: get-history and runs read them as text)
    this.pool.on('connect', (client) => {
      const set = 'SET jit = off; SET extra_float_digits = 1';
      void client.query(schema ? `SET search_path TO ${schema}; ${set}` : set).catch(() => {});
    });
    this.ready = (async () => {
      const c = await this.connect();
      try {
        if (schema) {
          await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((e: { code?: string }) => {
            if (e.code !== '23505' && e.code !== '42P06') throw e; // created concurrently
          });
          await c.query(`SET search_path TO ${schema}`);
        }
      } finally {
        c.release();
      }
    })();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot connect to PostgreSQL at ${redact(this.url)}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }

  private conn(client: pg.PoolClient): SqlConn {
    const q = async (sql: string, params: unknown[] = []) => {
      try {
        return await client.query(this.dialect.placeholders(sql), params);
      } catch (e) {
        throw mapError(e);
      }
    };
    return {
      all: async <T>(sql: string, params?: unknown[]) => (await q(sql, params)).rows as T[],
      get: async <T>(sql: string, params?: unknown[]) => (await q(sql, params)).rows[0] as T | undefined,
      run: async (sql, params) => ({ changes: (await q(sql, params)).rowCount ?? 0 }),
      // a plain INSERT … VALUES (…) goes as multi-row INSERTs of up to ROWS_PER_INSERT rows
      runMany: async (sql, rows) => {
        const m = /^(INSERT INTO \w+ \([^)]*\) VALUES )(\([^)]*\))(.*)$/s.exec(sql);
        if (!m || rows.length < 2) {
          for (const r of rows) await q(sql, r);
          return;
        }
        const unnest = unnestInsert(rows);
        if (unnest) {
          await q(`${m[1].replace(/VALUES $/, '')}${unnest.select}${m[3]}`, unnest.params);
          return;
        }
        const per = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(MAX_PARAMS / rows[0].length)));
        for (let i = 0; i < rows.length; i += per) {
          const chunk = rows.slice(i, i + per);
          await q(`${m[1]}${Array(chunk.length).fill(m[2]).join(', ')}${m[3]}`, chunk.flat());
        }
      },
      exec: async (sql) => {
        try {
          await client.query(sql);
        } catch (e) {
          throw mapError(e);
        }
      },
    };
  }

  async write<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    await this.ready;
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      // the migration lock is taken before BEGIN: a serializable transaction's snapshot starts at
      // its first statement, so a lock taken inside would still see the tables as they were
      // before the previous holder committed (and two fresh processes would both create them)
      const locked = this.exclusive;
      try {
        if (locked) await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const out = await fn(this.conn(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
        // n contending transactions on one key commit at least one per round: allow plenty of rounds
        if ((code === '40001' || code === '40P01') && attempt < 40) {
          await new Promise((r) => setTimeout(r, 5 + Math.random() * Math.min(200, 20 * (attempt + 1))));
          continue;
        }
        throw e;
      } finally {
        if (locked) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
        client.release();
      }
    }
  }

  async read<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out = await fn(this.conn(client));
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async readOne<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    await this.ready;
    const client = await this.connect();
    try {
      return (await this.conn(client).get<T>(sql, params)) as T | undefined;
    } finally {
      client.release();
    }
  }

  /** pg_notify on a pooled connection, outside any transaction (delivered at once). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.ready;
    const c = await this.connect();
    try {
      await c.query('SELECT pg_notify($1, $2)', [channel, payload]);
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    await this.pool.end();
  }
}

type ColumnType = 'text' | 'int8' | 'float8';

/**
 * Many rows as one `SELECT … FROM unnest(?::T[], …)`: one array literal per column (text built
 * here: node-postgres quotes and escapes every element of a JS array with two regex passes), and a
 * column with one value in every row (the run id of a metric batch) bound once as a scalar. Null
 * when a column mixes types (or holds neither strings nor numbers): the caller sends VALUES lists.
 */
export function unnestInsert(rows: unknown[][]): { select: string; params: unknown[] } | null {
  const width = rows[0].length;
  const types: ColumnType[] = [];
  const constant: boolean[] = [];
  for (let j = 0; j < width; j++) {
    const first = rows[0][j];
    const t = typeof first;
    if (t !== 'string' && t !== 'number') return null;
    let same = true;
    let ints = t === 'number';
    for (const r of rows) {
      const v = r[j];
      if (typeof v !== t) return null;
      if (v !== first) same = false;
      if (ints && !Number.isSafeInteger(v)) ints = false;
    }
    types.push(t === 'string' ? 'text' : ints ? 'int8' : 'float8');
    constant.push(same);
  }
  if (constant.every(Boolean)) constant[0] = false; // unnest needs one array to count the rows
  const params: unknown[] = [];
  const scalars: string[] = [];
  const arrays: string[] = [];
  const names: string[] = [];
  for (let j = 0; j < width; j++) {
    if (constant[j]) {
      scalars[j] = `?::${types[j]}`;
      params.push(rows[0][j]);
    }
  }
  for (let j = 0; j < width; j++) {
    if (constant[j]) continue;
    arrays.push(`?::${types[j]}[]`);
    names.push(`c${j}`);
    params.push(arrayLiteral(rows, j, types[j]));
  }
  const list = types.map((_, j) => (constant[j] ? scalars[j] : `u.c${j}`)).join(', ');
  // the scalars come first in the text, so their ? come first too
  return { select: `SELECT ${list} FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')})`, params };
}

/** A PostgreSQL array literal of column j: numbers as JavaScript prints them, text quoted. */
function arrayLiteral(rows: unknown[][], j: number, type: ColumnType): string {
  const parts: string[] = new Array(rows.length);
  if (type === 'text')
    for (let i = 0; i < rows.length; i++)
      parts[i] = `"${(rows[i][j] as string).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  else for (let i = 0; i < rows.length; i++) parts[i] = String(rows[i][j]);
  return `{${parts.join(',')}}`;
}

/** Keep KeelErrors; turn database errors into KEEL_E_STORE, keeping the SQLSTATE for retries. */
function mapError(e: unknown): unknown {
  if (e instanceof KeelError) return e;
  const err = e as { code?: string; message?: string };
  if (err.code === '40001' || err.code === '40P01') return e; // retried by write()
  return new KeelError('KEEL_E_STORE', `PostgreSQL: ${err.message ?? String(e)}`, {}, { cause: e });
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
