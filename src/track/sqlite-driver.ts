/**
 * The SqlDriver over better-sqlite3: one connection, prepared statements cached by SQL text, write
 * transactions with BEGIN IMMEDIATE (so a concurrent writer waits on busy_timeout instead of
 * failing halfway), and an in-process queue so that two async callers never share a transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { KeelError, toKeelError } from '../core/errors.js';
import { type SqlConn, type SqlDriver, sqliteDialect } from './sql.js';

const ROWS_PER_INSERT = 200;

export class SqliteDriver implements SqlDriver {
  readonly dialect = sqliteDialect;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** Shared by every driver on the same file in this process (see serial()). */
  private readonly lane: { tail: Promise<unknown> };
  private readonly conn: SqlConn;

  constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
      this.db = new Database(path);
      this.lane = laneFor(path === ':memory:' ? null : resolve(path));
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('synchronous = NORMAL');
    } catch (e) {
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot open the tracking store ${path}: ${(e as Error).message}`,
        { file: path },
        { cause: e },
      );
    }
    const stmt = (sql: string) => {
      let s = this.statements.get(sql);
      if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
      return s;
    };
    this.conn = {
      all: async <T>(sql: string, params: unknown[] = []) => stmt(sql).all(...params) as T[],
      get: async <T>(sql: string, params: unknown[] = []) => stmt(sql).get(...params) as T | undefined,
      run: async (sql, params = []) => ({ changes: stmt(sql).run(...params).changes }),
      // a plain INSERT … VALUES (…) goes ROWS_PER_INSERT rows per statement (fewer VM round trips)
      runMany: async (sql, rows) => {
        const m = /^(INSERT INTO \w+ \([^)]*\) VALUES )(\([^)]*\))(.*)$/s.exec(sql);
        let i = 0;
        if (m && rows.length >= ROWS_PER_INSERT) {
          const many = stmt(`${m[1]}${Array(ROWS_PER_INSERT).fill(m[2]).join(', ')}${m[3]}`);
          for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT)
            many.run(...rows.slice(i, i + ROWS_PER_INSERT).flat());
        }
        const s = stmt(sql);
        for (; i < rows.length; i++) s.run(...rows[i]);
      },
      exec: async (sql) => {
        this.db.exec(sql);
      },
    };
  }

  write<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    return this.serial(() => this.inTransaction('BEGIN IMMEDIATE', fn));
  }

  read<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    return this.serial(() => this.inTransaction('BEGIN', fn));
  }

  readOne<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return this.serial(async () => {
      if (!this.db.open) throw new KeelError('KEEL_E_STORE', `the tracking store ${this.path} is closed`);
      try {
        return (await this.conn.get<T>(sql, params)) as T | undefined;
      } catch (e) {
        throw storeError(e, this.path);
      }
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.db.open) this.db.close();
    });
  }

  private async inTransaction<T>(begin: string, fn: (c: SqlConn) => Promise<T>): Promise<T> {
    if (!this.db.open) throw new KeelError('KEEL_E_STORE', `the tracking store ${this.path} is closed`);
    try {
      this.db.exec(begin);
    } catch (e) {
      throw storeError(e, this.path);
    }
    try {
      const result = await fn(this.conn);
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw storeError(e, this.path);
    }
  }

  /**
   * One transaction at a time, in call order, per file and process. A transaction's body awaits,
   * so without this queue a second caller could slip statements into it; and a second connection
   * to the same file in this process would block the thread in SQLite's busy wait while the first
   * connection's transaction, which needs that same thread to finish, waits behind it.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lane.tail.then(fn, fn);
    this.lane.tail = result.catch(() => undefined);
    return result;
  }
}

const lanes = new Map<string, { tail: Promise<unknown> }>();

function laneFor(file: string | null): { tail: Promise<unknown> } {
  if (file === null) return { tail: Promise.resolve() };
  let lane = lanes.get(file);
  if (!lane) lanes.set(file, (lane = { tail: Promise.resolve() }));
  return lane;
}

/** KeelErrors pass through; database errors become KEEL_E_STORE with SQLite's message. */
function storeError(e: unknown, path: string): KeelError {
  if (e instanceof KeelError) return e;
  const err = e as { message?: string; code?: string };
  if (typeof err?.code === 'string' && err.code.startsWith('SQLITE_'))
    return new KeelError(
      'KEEL_E_STORE',
      `tracking store ${path}: ${err.message} (${err.code})`,
      {},
      { cause: e },
    );
  return toKeelError(e);
}
