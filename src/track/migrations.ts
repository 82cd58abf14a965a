/**
 * Versioned migrations of the tracking schema, applied in order at open, each in its own
 * transaction together with its row in schema_migrations. The SQL is portable between SQLite and
 * PostgreSQL (TEXT ids and ISO-8601 timestamps, BIGINT, DOUBLE PRECISION, ON CONFLICT); the few
 * real differences are `{{TOKENS}}` filled in from the dialect (sql.ts), or, where a change cannot
 * be written once (a column's type), one text per dialect. Metric timestamps are integer
 * milliseconds since migration 3. Never edit a migration once released: add a new one.
 */
import { KeelError } from '../core/errors.js';
import { renderSql, type SqlDriver } from './sql.js';

export interface Migration {
  id: number;
  name: string;
  /** Portable SQL with `{{TOKENS}}`, or one text per dialect where they cannot share one. */
  sql: string | { sqlite: string; postgres: string };
}

export const migrations: Migration[] = [
  {
    id: 1,
    name: 'initial tracking and registry schema',
    sql: `
CREATE TABLE experiments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL REFERENCES experiments(id),
  name TEXT,
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
  start_time TEXT NOT NULL,
  end_time TEXT,
  git_commit TEXT,
  error TEXT
);
CREATE INDEX runs_experiment_start ON runs(experiment_id, start_time);
CREATE INDEX runs_start ON runs(start_time);
CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
  id {{AUTO_ID}},
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  step BIGINT NOT NULL,
  timestamp TEXT NOT NULL
);
CREATE INDEX metrics_run_key ON metrics(run_id, key, id);
CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  uri TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE dataset_inputs (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  row_count BIGINT NOT NULL,
  context TEXT NOT NULL,
  PRIMARY KEY (run_id, name, context)
);
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  description TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name),
  version INTEGER NOT NULL,
  run_id TEXT REFERENCES runs(id),
  artifact_name TEXT NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  artifact_size BIGINT NOT NULL,
  artifact_uri TEXT NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE model_aliases (
  name TEXT NOT NULL REFERENCES registered_models(name),
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE audit_log (
  id {{AUTO_ID}},
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  model TEXT NOT NULL,
  alias TEXT,
  from_version INTEGER,
  to_version INTEGER,
  reason TEXT
);
CREATE INDEX audit_log_model ON audit_log(model, id);
{{APPEND_ONLY audit_log}}
`,
  },
  {
    id: 2,
    name: 'run lifecycle, model version stages',
    sql: `
ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';
`,
  },
  {
    id: 3,
    name: 'metric timestamps as integer milliseconds since the epoch',
    // SQLite cannot change a column's type: the table is rebuilt with the same ids (so the history
    // order stays) and the same AUTOINCREMENT sequence; a timestamp SQLite cannot read becomes 0
    sql: {
      sqlite: `
CREATE TABLE metrics_v3 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  step BIGINT NOT NULL,
  timestamp BIGINT NOT NULL
);
INSERT INTO metrics_v3 (id, run_id, key, value, step, timestamp)
  SELECT id, run_id, key, value, step,
    COALESCE(CAST(ROUND((julianday(timestamp) - 2440587.5) * 86400000.0) AS INTEGER), 0)
  FROM metrics ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'metrics_v3';
INSERT INTO sqlite_sequence (name, seq) SELECT 'metrics_v3', seq FROM sqlite_sequence WHERE name = 'metrics';
DROP TABLE metrics;
ALTER TABLE metrics_v3 RENAME TO metrics;
CREATE INDEX metrics_run_key ON metrics(run_id, key, id);
`,
      postgres: `
ALTER TABLE metrics ALTER COLUMN timestamp TYPE BIGINT
  USING round(EXTRACT(EPOCH FROM timestamp::timestamptz) * 1000)::bigint;
`,
    },
  },
];

/**
 * Apply the pending migrations in order, each in one transaction with its schema_migrations row.
 * Returns the ids applied. Refuses a database written by a newer Keel (unknown migration ids).
 */
export async function migrate(driver: SqlDriver, list: Migration[] = migrations): Promise<number[]> {
  await driver.write((c) =>
    c.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    ),
  );
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.id - b.id)) {
    const done = await driver.write(async (c) => {
      if (await c.get('SELECT id FROM schema_migrations WHERE id = ?', [m.id])) return false;
      const sql = typeof m.sql === 'string' ? m.sql : m.sql[driver.dialect.name];
      await c.exec(renderSql(sql, driver.dialect));
      await c.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [
        m.id,
        m.name,
        new Date().toISOString(),
      ]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  const known = new Set(list.map((m) => m.id));
  const rows = await driver.read((c) => c.all<{ id: number }>('SELECT id FROM schema_migrations'));
  const unknown = rows.map((r) => Number(r.id)).filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new KeelError(
      'KEEL_E_STORE',
      `the tracking store has schema migrations this version of Keel does not know (${unknown.join(', ')}); upgrade Keel`,
    );
  return applied;
}

/** The id of the newest applied migration (0 for an empty database). */
export async function schemaVersion(driver: SqlDriver): Promise<number> {
  const r = await driver.read((c) =>
    c.get<{ v: number | null }>('SELECT MAX(id) AS v FROM schema_migrations'),
  );
  return Number(r?.v ?? 0);
}
