/**
 * The embedded tracking store: one SQLite file (WAL mode), migrations applied at open, every
 * multi-row write in a transaction. Synchronous underneath (better-sqlite3) behind the async
 * TrackingStore interface that the PostgreSQL store will share.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { KeelError } from '../core/errors.js';
import { migrations } from './migrations.js';
import type {
  ArtifactRef,
  AuditEntry,
  DatasetInput,
  Experiment,
  MetricPoint,
  ModelVersion,
  ParamValue,
  RegisteredModel,
  RunDetail,
  RunInfo,
  RunStatus,
  TrackingStore,
} from './types.js';

type Row = Record<string, unknown>;
const now = () => new Date().toISOString();
const newId = () => randomBytes(16).toString('hex');

export class SqliteStore implements TrackingStore {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot open the tracking store ${path}: ${(e as Error).message}`,
        { file: path },
        { cause: e },
      );
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
  }

  /** Apply pending migrations, each in its own transaction. Returns the ids applied. */
  migrate(): number[] {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, now());
      })();
      applied.push(m.id);
    }
    return applied;
  }

  schemaVersion(): number {
    return (
      (this.db.prepare('SELECT MAX(id) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
    );
  }

  // ---- experiments ----

  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return this.experiment(name);
  }

  private experiment(name: string): Experiment {
    const found = this.db.prepare('SELECT id, name, created_at FROM experiments WHERE name = ?').get(name) as
      | Row
      | undefined;
    if (found) return toExperiment(found);
    const e = { id: newId(), name, created_at: now() };
    this.db.prepare('INSERT INTO experiments (id, name, created_at) VALUES (@id, @name, @created_at)').run(e);
    return toExperiment(e);
  }

  async listExperiments(): Promise<Experiment[]> {
    return (
      this.db.prepare('SELECT id, name, created_at FROM experiments ORDER BY created_at, name').all() as Row[]
    ).map(toExperiment);
  }

  // ---- runs ----

  async createRun(opts: {
    experiment: string;
    name?: string;
    tags?: Record<string, string>;
    gitCommit?: string | null;
  }): Promise<RunInfo> {
    const id = newId();
    this.db.transaction(() => {
      const exp = this.experiment(opts.experiment);
      this.db
        .prepare(
          "INSERT INTO runs (id, experiment_id, name, status, start_time, git_commit) VALUES (?, ?, ?, 'RUNNING', ?, ?)",
        )
        .run(id, exp.id, opts.name ?? null, now(), opts.gitCommit ?? null);
      this.insertTags(id, opts.tags ?? {});
    })();
    return this.runInfo(id);
  }

  private requireRunning(runId: string): void {
    const r = this.db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as
      | { status: RunStatus }
      | undefined;
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `run ${runId} not found`);
  }

  async logParams(runId: string, params: Record<string, ParamValue>): Promise<void> {
    this.requireRunning(runId);
    const get = this.db.prepare('SELECT value FROM params WHERE run_id = ? AND key = ?');
    const put = this.db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const [key, v] of Object.entries(params)) {
        const value = String(v);
        const old = get.get(runId, key) as { value: string } | undefined;
        if (old === undefined) put.run(runId, key, value);
        else if (old.value !== value)
          throw new KeelError(
            'KEEL_E_CONFLICT',
            `param "${key}" of run ${runId} is already "${old.value}"; it cannot change to "${value}"`,
            {
              path: ['params', key],
            },
          );
      }
    })();
  }

  async logMetrics(runId: string, metrics: Record<string, number>, step = 0): Promise<void> {
    await this.logMetricBatch(
      runId,
      Object.entries(metrics).map(([key, value]) => ({ key, value, step })),
    );
  }

  /** Many metric points in one transaction. */
  async logMetricBatch(
    runId: string,
    points: { key: string; value: number; step?: number; timestamp?: string }[],
  ): Promise<void> {
    this.requireRunning(runId);
    const seq0 = (
      this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM metrics WHERE run_id = ?').get(runId) as {
        s: number;
      }
    ).s;
    const put = this.db.prepare(
      'INSERT INTO metrics (run_id, key, value, step, timestamp, seq) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const ts = now();
    this.db.transaction(() => {
      let seq = seq0;
      for (const p of points) {
        if (typeof p.value !== 'number' || Number.isNaN(p.value))
          throw new KeelError('KEEL_E_INPUT', `metric "${p.key}" must be a number, got ${String(p.value)}`, {
            path: ['metrics', p.key],
          });
        put.run(runId, p.key, p.value, p.step ?? 0, p.timestamp ?? ts, ++seq);
      }
    })();
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    this.requireRunning(runId);
    this.db.transaction(() => this.insertTags(runId, tags))();
  }

  private insertTags(runId: string, tags: Record<string, string>): void {
    const put = this.db.prepare(
      'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
    );
    for (const [k, v] of Object.entries(tags)) put.run(runId, k, String(v));
  }

  async logDatasetInput(runId: string, input: DatasetInput): Promise<void> {
    this.requireRunning(runId);
    this.db
      .prepare(
        'INSERT INTO dataset_inputs (run_id, name, sha256, source, rows, context) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, name, context) DO UPDATE SET sha256 = excluded.sha256, source = excluded.source, rows = excluded.rows',
      )
      .run(runId, input.name, input.sha256, input.source, input.rows, input.context);
  }

  async logArtifact(runId: string, ref: ArtifactRef): Promise<void> {
    this.requireRunning(runId);
    this.db
      .prepare(
        'INSERT INTO artifacts (run_id, name, sha256, size, uri) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, uri = excluded.uri',
      )
      .run(runId, ref.name, ref.sha256, ref.size, ref.uri);
  }

  async endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>, error?: string): Promise<void> {
    this.requireRunning(runId);
    this.db
      .prepare('UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?')
      .run(status, now(), error ?? null, runId);
  }

  /** A run by id, or by an unambiguous prefix of at least 6 characters. */
  private resolveRunId(idOrPrefix: string): string {
    const exact = this.db.prepare('SELECT id FROM runs WHERE id = ?').get(idOrPrefix) as
      | { id: string }
      | undefined;
    if (exact) return exact.id;
    if (idOrPrefix.length >= 6 && /^[0-9a-f]+$/i.test(idOrPrefix)) {
      const rows = this.db
        .prepare('SELECT id FROM runs WHERE id LIKE ? LIMIT 2')
        .all(`${idOrPrefix.toLowerCase()}%`) as { id: string }[];
      if (rows.length === 1) return rows[0].id;
      if (rows.length > 1)
        throw new KeelError(
          'KEEL_E_USAGE',
          `run id prefix "${idOrPrefix}" matches several runs; give more characters`,
        );
    }
    throw new KeelError('KEEL_E_NOT_FOUND', `run ${idOrPrefix} not found`);
  }

  private runInfo(id: string): RunInfo {
    const r = this.db
      .prepare(
        'SELECT r.*, e.name AS experiment_name FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?',
      )
      .get(id) as Row | undefined;
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `run ${id} not found`);
    return toRunInfo(r);
  }

  async getRun(runId: string): Promise<RunDetail> {
    const id = this.resolveRunId(runId);
    const info = this.runInfo(id);
    const kv = (sql: string) =>
      Object.fromEntries(
        (this.db.prepare(sql).all(id) as { key: string; value: string }[]).map((r) => [r.key, r.value]),
      );
    const metrics: Record<string, number> = {};
    for (const m of this.db
      .prepare('SELECT key, value FROM metrics WHERE run_id = ? ORDER BY seq')
      .all(id) as { key: string; value: number }[])
      metrics[m.key] = m.value;
    return {
      ...info,
      params: kv('SELECT key, value FROM params WHERE run_id = ? ORDER BY key'),
      metrics,
      tags: kv('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key'),
      artifacts: this.db
        .prepare('SELECT name, sha256, size, uri FROM artifacts WHERE run_id = ? ORDER BY name')
        .all(id) as ArtifactRef[],
      inputs: this.db
        .prepare(
          'SELECT name, sha256, source, rows, context FROM dataset_inputs WHERE run_id = ? ORDER BY context, name',
        )
        .all(id) as DatasetInput[],
    };
  }

  async listRuns(opts: { experiment?: string; limit?: number } = {}): Promise<RunInfo[]> {
    const limit = opts.limit ?? 100;
    const rows = opts.experiment
      ? this.db
          .prepare(
            'SELECT r.*, e.name AS experiment_name FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? ORDER BY r.start_time DESC, r.rowid DESC LIMIT ?',
          )
          .all(opts.experiment, limit)
      : this.db
          .prepare(
            'SELECT r.*, e.name AS experiment_name FROM runs r JOIN experiments e ON e.id = r.experiment_id ORDER BY r.start_time DESC, r.rowid DESC LIMIT ?',
          )
          .all(limit);
    return (rows as Row[]).map(toRunInfo);
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const id = this.resolveRunId(runId);
    return this.db
      .prepare('SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY seq')
      .all(id, key) as MetricPoint[];
  }

  // ---- registry ----

  async createModelVersion(opts: {
    name: string;
    runId: string | null;
    artifact: ArtifactRef;
    description?: string;
    actor?: string;
  }): Promise<ModelVersion> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.name))
      throw new KeelError(
        'KEEL_E_USAGE',
        `model name "${opts.name}" must use letters, digits, '_', '.' or '-'`,
        { path: ['name'] },
      );
    const version = this.db.transaction(() => {
      const at = now();
      const exists = this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(opts.name);
      if (!exists) {
        this.db
          .prepare('INSERT INTO registered_models (name, description, created_at) VALUES (?, NULL, ?)')
          .run(opts.name, at);
        this.audit(opts.actor, 'create_model', opts.name, null, null, null, null);
      }
      const v = (
        this.db
          .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM model_versions WHERE name = ?')
          .get(opts.name) as { v: number }
      ).v;
      this.db
        .prepare(
          'INSERT INTO model_versions (name, version, run_id, artifact_name, artifact_sha256, artifact_size, artifact_uri, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          opts.name,
          v,
          opts.runId,
          opts.artifact.name,
          opts.artifact.sha256,
          opts.artifact.size,
          opts.artifact.uri,
          opts.description ?? null,
          at,
        );
      this.audit(opts.actor, 'create_version', opts.name, null, null, v, opts.description ?? null);
      return v;
    })();
    return this.modelVersion(opts.name, version);
  }

  private audit(
    actor: string | undefined,
    action: string,
    model: string,
    alias: string | null,
    from: number | null,
    to: number | null,
    reason: string | null,
  ): void {
    this.db
      .prepare(
        'INSERT INTO audit_log (at, actor, action, model, alias, from_version, to_version, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(now(), actor ?? defaultActor(), action, model, alias, from, to, reason);
  }

  private modelVersion(name: string, version: number): ModelVersion {
    const r = this.db
      .prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?')
      .get(name, version) as Row | undefined;
    if (!r) {
      this.requireModel(name);
      throw new KeelError('KEEL_E_NOT_FOUND', `model ${name} has no version ${version}`);
    }
    const aliases = (
      this.db
        .prepare('SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias')
        .all(name, version) as { alias: string }[]
    ).map((a) => a.alias);
    return {
      name: r.name as string,
      version: r.version as number,
      runId: (r.run_id as string | null) ?? null,
      artifact: {
        name: r.artifact_name as string,
        sha256: r.artifact_sha256 as string,
        size: r.artifact_size as number,
        uri: r.artifact_uri as string,
      },
      createdAt: r.created_at as string,
      description: (r.description as string | null) ?? null,
      aliases,
    };
  }

  private requireModel(name: string): void {
    if (!this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name))
      throw new KeelError('KEEL_E_NOT_FOUND', `registered model "${name}" not found`);
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.modelVersion(name, version);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    const r = this.db
      .prepare('SELECT version FROM model_aliases WHERE name = ? AND alias = ?')
      .get(name, alias) as { version: number } | undefined;
    return r ? this.modelVersion(name, r.version) : null;
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    opts: { actor?: string; reason?: string } = {},
  ): Promise<void> {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(alias))
      throw new KeelError(
        'KEEL_E_USAGE',
        `alias "${alias}" must start with a letter and use letters, digits, '_' or '-'`,
      );
    this.db.transaction(() => {
      this.modelVersion(name, version);
      const old = this.db
        .prepare('SELECT version FROM model_aliases WHERE name = ? AND alias = ?')
        .get(name, alias) as { version: number } | undefined;
      if (old?.version === version) return;
      this.db
        .prepare(
          'INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version',
        )
        .run(name, alias, version);
      this.audit(opts.actor, 'set_alias', name, alias, old?.version ?? null, version, opts.reason ?? null);
    })();
  }

  async deleteAlias(
    name: string,
    alias: string,
    opts: { actor?: string; reason?: string } = {},
  ): Promise<void> {
    this.db.transaction(() => {
      const old = this.db
        .prepare('SELECT version FROM model_aliases WHERE name = ? AND alias = ?')
        .get(name, alias) as { version: number } | undefined;
      if (!old) throw new KeelError('KEEL_E_NOT_FOUND', `model ${name} has no alias "${alias}"`);
      this.db.prepare('DELETE FROM model_aliases WHERE name = ? AND alias = ?').run(name, alias);
      this.audit(opts.actor, 'delete_alias', name, alias, old.version, null, opts.reason ?? null);
    })();
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const r = this.db.prepare('SELECT * FROM registered_models WHERE name = ?').get(name) as Row | undefined;
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `registered model "${name}" not found`);
    return this.toRegisteredModel(r);
  }

  private toRegisteredModel(r: Row): RegisteredModel {
    const name = r.name as string;
    const latest = (
      this.db.prepare('SELECT MAX(version) AS v FROM model_versions WHERE name = ?').get(name) as {
        v: number | null;
      }
    ).v;
    const aliases = Object.fromEntries(
      (
        this.db
          .prepare('SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias')
          .all(name) as { alias: string; version: number }[]
      ).map((a) => [a.alias, a.version]),
    );
    return {
      name,
      description: (r.description as string | null) ?? null,
      createdAt: r.created_at as string,
      latestVersion: latest,
      aliases,
    };
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    return (this.db.prepare('SELECT * FROM registered_models ORDER BY name').all() as Row[]).map((r) =>
      this.toRegisteredModel(r),
    );
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    this.requireModel(name);
    return (
      this.db
        .prepare('SELECT version FROM model_versions WHERE name = ? ORDER BY version DESC')
        .all(name) as { version: number }[]
    ).map((v) => this.modelVersion(name, v.version));
  }

  async auditLog(name?: string): Promise<AuditEntry[]> {
    const rows = (
      name
        ? this.db.prepare('SELECT * FROM audit_log WHERE model = ? ORDER BY id').all(name)
        : this.db.prepare('SELECT * FROM audit_log ORDER BY id').all()
    ) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as string,
      actor: r.actor as string,
      action: r.action as string,
      model: r.model as string,
      alias: (r.alias as string | null) ?? null,
      fromVersion: (r.from_version as number | null) ?? null,
      toVersion: (r.to_version as number | null) ?? null,
      reason: (r.reason as string | null) ?? null,
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function defaultActor(): string {
  return process.env.KEEL_ACTOR ?? process.env.USER ?? 'keel';
}

function toExperiment(r: Row): Experiment {
  return { id: r.id as string, name: r.name as string, createdAt: r.created_at as string };
}

function toRunInfo(r: Row): RunInfo {
  return {
    id: r.id as string,
    experimentId: r.experiment_id as string,
    experimentName: r.experiment_name as string,
    name: (r.name as string | null) ?? null,
    status: r.status as RunStatus,
    startTime: r.start_time as string,
    endTime: (r.end_time as string | null) ?? null,
    gitCommit: (r.git_commit as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}
