/**
 * Versioned migrations of the tracking schema, applied in order at open. The SQL is kept portable
 * (TEXT ids, ISO timestamps, INTEGER/REAL/TEXT types) so a PostgreSQL store can reuse it; dialect
 * differences belong in the store, not here. Never edit a released migration: add a new one.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
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
CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value REAL NOT NULL,
  step INTEGER NOT NULL,
  timestamp TEXT NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX metrics_run_key ON metrics(run_id, key, seq);
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
  size INTEGER NOT NULL,
  uri TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE dataset_inputs (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  rows INTEGER NOT NULL,
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
  artifact_size INTEGER NOT NULL,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  model TEXT NOT NULL,
  alias TEXT,
  from_version INTEGER,
  to_version INTEGER,
  reason TEXT
);
`,
  },
];
