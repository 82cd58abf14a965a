/**
 * The prediction log: every scored record (inputs, output, model version, latency, request id)
 * appended in batches to a table, off the response path, for monitoring and delayed labels.
 *
 * `append` only pushes onto an in-memory queue; a timer (or a full batch) hands the queue to the
 * sink. Memory is bounded: when the sink is slow or down and the queue holds `maxQueue` rows, new
 * rows are dropped and counted (`dropped`, and the keel_prediction_log_dropped_total metric), with
 * one warning per `warnEveryMs`. A failing sink never crashes the server: the batch is counted as
 * dropped and the next flush tries again.
 *
 * Sinks: SQLite (a file of its own, WAL, so the log never contends with the tracking store) and
 * PostgreSQL (one multi-row INSERT per batch).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { KeelError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';

export interface PredictionRecord {
  /** Epoch milliseconds. */
  ts: number;
  requestId: string;
  model: string;
  version: number;
  /** Who scored it: the primary version, a canary, or a shadow (not returned to the client); default primary. */
  role?: 'primary' | 'canary' | 'shadow';
  input: unknown;
  probability: number;
  label: string;
  /** Milliseconds the request took to score (the whole batch for batch requests). */
  latencyMs: number;
}

export interface PredictionSink {
  readonly describe: string;
  write(rows: readonly PredictionRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface PredictionLogOptions {
  /** Rows held in memory at most; beyond it new rows are dropped and counted (default 50,000). */
  maxQueue?: number;
  /** Rows per write (default 2,000). */
  batchSize?: number;
  /** Flush at least this often (default 1,000 ms). */
  flushIntervalMs?: number;
  /** At most one "dropping rows" warning this often (default 10,000 ms). */
  warnEveryMs?: number;
  logger?: Logger;
}

export class PredictionLog {
  private queue: PredictionRecord[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private lastWarn = 0;
  private closed = false;
  /** Rows written to the sink. */
  written = 0;
  /** Rows dropped (queue full or the sink failed). */
  dropped = 0;
  /** Sink writes that failed. */
  failures = 0;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly warnEveryMs: number;
  private readonly log: Logger;

  constructor(
    readonly sink: PredictionSink,
    options: PredictionLogOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 50_000;
    this.batchSize = options.batchSize ?? 2_000;
    this.warnEveryMs = options.warnEveryMs ?? 10_000;
    this.log = options.logger ?? silentLogger;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queue one row; never blocks, never throws. Returns false when the row was dropped. */
  append(row: PredictionRecord): boolean {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.drop(1, this.closed ? 'the log is closed' : `the queue is full (${this.maxQueue} rows)`);
      return false;
    }
    this.queue.push(row);
    if (this.queue.length >= this.batchSize && !this.flushing) void this.flush();
    return true;
  }

  /** Write everything queued so far (in batches); resolves when done. Failures are counted, not thrown. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0, this.batchSize);
          try {
            await this.sink.write(batch);
            this.written += batch.length;
          } catch (e) {
            this.failures++;
            this.drop(batch.length, `the sink ${this.sink.describe} failed: ${(e as Error).message}`);
            break; // try again on the next tick instead of spinning on a broken sink
          }
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Flush what is queued, stop the timer and close the sink. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    // rows appended while that flush ran
    await this.flush();
    this.closed = true;
    await this.sink.close();
  }

  private drop(n: number, why: string): void {
    this.dropped += n;
    const now = Date.now();
    if (now - this.lastWarn >= this.warnEveryMs) {
      this.lastWarn = now;
      this.log.warn(
        { dropped: this.dropped, pending: this.queue.length },
        `prediction log: dropping rows, ${why} (${this.dropped} dropped so far)`,
      );
    }
  }
}

const COLUMNS = 'ts, request_id, model, version, role, input, probability, label, latency_ms';

/** The prediction log in a SQLite file of its own. */
export class SqlitePredictionSink implements PredictionSink {
  readonly describe: string;
  private readonly db: Database.Database;
  private readonly insert: (rows: readonly PredictionRecord[]) => void;

  constructor(path: string) {
    this.describe = `sqlite:${path}`;
    try {
      if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`CREATE TABLE IF NOT EXISTS predictions (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        role TEXT NOT NULL,
        input TEXT NOT NULL,
        probability REAL NOT NULL,
        label TEXT NOT NULL,
        latency_ms REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS predictions_model_ts ON predictions (model, version, ts);`);
    } catch (e) {
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot open the prediction log ${path}: ${(e as Error).message}`,
        { file: path },
        { cause: e },
      );
    }
    const stmt = this.db.prepare(`INSERT INTO predictions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insert = this.db.transaction((rows: readonly PredictionRecord[]) => {
      for (const r of rows)
        stmt.run(
          r.ts,
          r.requestId,
          r.model,
          r.version,
          r.role ?? 'primary',
          JSON.stringify(r.input),
          r.probability,
          r.label,
          r.latencyMs,
        );
    });
  }

  async write(rows: readonly PredictionRecord[]): Promise<void> {
    this.insert(rows);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** The prediction log in a PostgreSQL table (created when missing), optionally in a schema. */
export class PostgresPredictionSink implements PredictionSink {
  readonly describe: string;
  private readonly pool: pg.Pool;
  private ready: Promise<void> | null = null;
  private readonly table: string;
  private readonly schema: string | null;

  constructor(url: string) {
    const u = new URL(url);
    const schema = u.searchParams.get('schema');
    u.searchParams.delete('schema');
    if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema))
      throw new KeelError('KEEL_E_CONFIG', `prediction log: schema "${schema}" is not a plain identifier`);
    this.table = schema ? `"${schema}".predictions` : 'predictions';
    u.password = '';
    this.describe = `postgres:${u.host}${u.pathname}${schema ? `?schema=${schema}` : ''}`;
    this.pool = new pg.Pool({ connectionString: url.replace(/[?&]schema=[^&]*/, ''), max: 2 });
    this.pool.on('error', () => {}); // an idle client's error surfaces on the next write
    this.schema = schema;
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      if (this.schema) await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        id BIGSERIAL PRIMARY KEY,
        ts TIMESTAMPTZ NOT NULL,
        request_id TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        role TEXT NOT NULL,
        input JSONB NOT NULL,
        probability DOUBLE PRECISION NOT NULL,
        label TEXT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL
      )`);
    })().catch((e) => {
      this.ready = null;
      throw e;
    });
    return this.ready;
  }

  async write(rows: readonly PredictionRecord[]): Promise<void> {
    await this.init();
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const r of rows) {
      const b = values.length;
      tuples.push(
        `(to_timestamp($${b + 1} / 1000.0), $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9})`,
      );
      values.push(
        r.ts,
        r.requestId,
        r.model,
        r.version,
        r.role ?? 'primary',
        JSON.stringify(r.input),
        r.probability,
        r.label,
        r.latencyMs,
      );
    }
    await this.pool.query(`INSERT INTO ${this.table} (${COLUMNS}) VALUES ${tuples.join(', ')}`, values);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `postgres://…` (optionally `?schema=NAME`) or a SQLite file path. */
export function openPredictionSink(target: string): PredictionSink {
  return /^postgres(ql)?:\/\//.test(target)
    ? new PostgresPredictionSink(target)
    : new SqlitePredictionSink(target);
}
