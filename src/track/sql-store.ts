/**
 * The TrackingStore over any SqlDriver: every query is written once, in SQL that SQLite and
 * PostgreSQL both accept, with `?` placeholders. SqliteStore (and PostgresStore, issue 5) only pick
 * the driver. The registry half lives in sql-registry.ts.
 */
import { randomBytes } from 'node:crypto';
import { KeelError } from '../core/errors.js';
import { migrate } from './migrations.js';
import { compileRunSearch, encodePageToken } from './search-sql.js';
import { numberFromText, type SqlConn, type SqlDialect, type SqlDriver } from './sql.js';
import * as registry from './sql-registry.js';
import type {
  ArtifactRef,
  AuditEntry,
  DatasetInput,
  Experiment,
  MetricInput,
  MetricPoint,
  ModelStage,
  ModelVersion,
  ParamValue,
  RegisteredModel,
  RunDetail,
  RunInfo,
  RunPage,
  RunStatus,
  SearchRunsOptions,
  TrackingStore,
} from './types.js';

type Row = Record<string, unknown>;

let lastMs = 0;
/** Milliseconds since the epoch, strictly increasing within this process. */
export function clockMs(): number {
  lastMs = Math.max(Date.now(), lastMs + 1);
  return lastMs;
}
/** ISO time, strictly increasing within this process so runs keep their creation order. */
export function clock(): string {
  return new Date(clockMs()).toISOString();
}

/** The largest time a Date holds, in ms either side of the epoch. */
const MAX_TIME_MS = 8.64e15;

/** A metric timestamp as stored (integer ms) as the ISO text MetricPoint carries. */
const isoOf = (ms: unknown): string => new Date(Number(ms)).toISOString();

const newId = () => randomBytes(16).toString('hex');
const RUN_INFO =
  'r.id, r.experiment_id, e.name AS experiment_name, r.name, r.status, r.start_time, r.end_time, r.git_commit, r.error, r.lifecycle_stage';
const RUN_JOIN = 'JOIN experiments e ON e.id = r.experiment_id';
const RUN_COLUMNS = `${RUN_INFO} FROM runs r ${RUN_JOIN}`;

export class SqlTrackingStore implements TrackingStore {
  private readonly ready: Promise<number[]>;

  constructor(protected readonly driver: SqlDriver) {
    this.ready = migrate(driver);
    this.ready.catch(() => undefined); // reported by the first call instead
  }

  /** Resolves with the migration ids applied at open; rejects if the schema could not be set up. */
  migrated(): Promise<number[]> {
    return this.ready;
  }

  protected async write<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    await this.ready;
    return this.driver.write(fn);
  }

  protected async read<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    await this.ready;
    return this.driver.read(fn);
  }

  /**
   * requireRun for a write of metrics: first waits for other transactions writing this run's
   * metrics (SqlDialect.lockRunMetrics), in the same statement (one round trip).
   */
  private async requireRunForMetrics(c: SqlConn, runId: string): Promise<void> {
    const lock = this.driver.dialect.lockRunMetrics;
    if (!lock) return void (await requireRun(c, runId));
    const r = await c.get(`SELECT r.status FROM (${lock}) AS l, runs r WHERE r.id = ?`, [runId, runId]);
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `run ${runId} not found`);
  }

  // ---- experiments ----

  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return this.write((c) => experiment(c, name));
  }

  async createExperiment(name: string): Promise<Experiment> {
    return this.write(async (c) => {
      if (await c.get('SELECT id FROM experiments WHERE name = ?', [name]))
        throw new KeelError('KEEL_E_CONFLICT', `experiment "${name}" already exists`, { path: ['name'] });
      return experiment(c, name);
    });
  }

  async getExperiment(id: string): Promise<Experiment> {
    const r = await this.read((c) =>
      c.get<Row>('SELECT id, name, created_at FROM experiments WHERE id = ?', [id]),
    );
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `experiment ${id} not found`);
    return toExperiment(r);
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const r = await this.read((c) =>
      c.get<Row>('SELECT id, name, created_at FROM experiments WHERE name = ?', [name]),
    );
    if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `experiment "${name}" not found`);
    return toExperiment(r);
  }

  async listExperiments(): Promise<Experiment[]> {
    const rows = await this.read((c) =>
      c.all<Row>('SELECT id, name, created_at FROM experiments ORDER BY created_at, name'),
    );
    return rows.map(toExperiment);
  }

  // ---- runs ----

  async createRun(opts: {
    experiment: string;
    name?: string;
    tags?: Record<string, string>;
    gitCommit?: string | null;
    startTime?: string;
  }): Promise<RunInfo> {
    const id = newId();
    if (opts.startTime !== undefined && Number.isNaN(Date.parse(opts.startTime)))
      throw new KeelError('KEEL_E_USAGE', `start time "${opts.startTime}" is not an ISO time`, {
        path: ['start_time'],
      });
    return this.write(async (c) => {
      const exp = await experiment(c, opts.experiment);
      await c.run(
        "INSERT INTO runs (id, experiment_id, name, status, start_time, git_commit) VALUES (?, ?, ?, 'RUNNING', ?, ?)",
        [id, exp.id, opts.name ?? null, opts.startTime ?? clock(), opts.gitCommit ?? null],
      );
      await putTags(c, id, opts.tags ?? {});
      return runInfo(c, id);
    });
  }

  async updateRun(
    runId: string,
    changes: { status?: RunStatus; endTime?: string | null; name?: string },
  ): Promise<RunInfo> {
    if (changes.status !== undefined && !['RUNNING', 'FINISHED', 'FAILED', 'KILLED'].includes(changes.status))
      throw new KeelError(
        'KEEL_E_USAGE',
        `run status must be RUNNING, FINISHED, FAILED or KILLED, got "${changes.status}"`,
        {
          path: ['status'],
        },
      );
    if (typeof changes.endTime === 'string' && Number.isNaN(Date.parse(changes.endTime)))
      throw new KeelError('KEEL_E_USAGE', `end time "${changes.endTime}" is not an ISO time`, {
        path: ['end_time'],
      });
    return this.write(async (c) => {
      await requireRun(c, runId);
      if (changes.status !== undefined)
        await c.run('UPDATE runs SET status = ? WHERE id = ?', [changes.status, runId]);
      if (changes.endTime !== undefined)
        await c.run('UPDATE runs SET end_time = ? WHERE id = ?', [changes.endTime, runId]);
      if (changes.name !== undefined)
        await c.run('UPDATE runs SET name = ? WHERE id = ?', [changes.name, runId]);
      return runInfo(c, runId);
    });
  }

  async deleteRun(runId: string): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await c.run("UPDATE runs SET lifecycle_stage = 'deleted' WHERE id = ?", [runId]);
    });
  }

  async restoreRun(runId: string): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await c.run("UPDATE runs SET lifecycle_stage = 'active' WHERE id = ?", [runId]);
    });
  }

  async searchRuns(opts: SearchRunsOptions = {}): Promise<RunPage> {
    const d = this.driver.dialect;
    // the page's run columns come with the search itself (one query fewer per page)
    const q = compileRunSearch(opts, d, { columns: RUN_INFO, join: RUN_JOIN });
    return this.read(async (c) => {
      const rows = await c.all<Row>(q.sql, q.params);
      const more = rows.length > q.limit;
      const page = more ? rows.slice(0, q.limit) : rows;
      return {
        runs: await runDetails(
          c,
          d,
          page.map((r) => r.id as string),
          page,
        ),
        nextPageToken: more ? encodePageToken(q.offset + q.limit, q.fingerprint) : null,
      };
    });
  }

  async logParams(runId: string, params: Record<string, ParamValue>): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await putParams(c, runId, params);
    });
  }

  async logBatch(
    runId: string,
    batch: { metrics?: MetricInput[]; params?: Record<string, ParamValue>; tags?: Record<string, string> },
  ): Promise<void> {
    const rows = metricRows(runId, batch.metrics ?? [], clockMs());
    return this.write(async (c) => {
      if (rows.length > 0) await this.requireRunForMetrics(c, runId);
      else await requireRun(c, runId);
      await putParams(c, runId, batch.params ?? {});
      await putTags(c, runId, batch.tags ?? {});
      await c.runMany(
        'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
        rows,
      );
    });
  }

  async logMetrics(runId: string, metrics: Record<string, number>, step = 0): Promise<void> {
    return this.logMetricBatch(
      runId,
      Object.entries(metrics).map(([key, value]) => ({ key, value, step })),
    );
  }

  async logMetricBatch(runId: string, points: MetricInput[]): Promise<void> {
    const rows = metricRows(runId, points, clockMs());
    return this.write(async (c) => {
      await this.requireRunForMetrics(c, runId);
      await c.runMany(
        'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
        rows,
      );
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await putTags(c, runId, tags);
    });
  }

  async logDatasetInput(runId: string, input: DatasetInput): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await c.run(
        'INSERT INTO dataset_inputs (run_id, name, sha256, source, row_count, context) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (run_id, name, context) DO UPDATE SET sha256 = excluded.sha256, source = excluded.source, row_count = excluded.row_count',
        [runId, input.name, input.sha256, input.source, input.rows, input.context],
      );
    });
  }

  async logArtifact(runId: string, ref: ArtifactRef): Promise<void> {
    return this.write(async (c) => {
      await requireRun(c, runId);
      await c.run(
        'INSERT INTO artifacts (run_id, name, sha256, size, uri) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (run_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, uri = excluded.uri',
        [runId, ref.name, ref.sha256, ref.size, ref.uri],
      );
    });
  }

  async endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>, error?: string): Promise<void> {
    return this.write(async (c) => {
      const { status: now } = await requireRun(c, runId);
      if (now !== 'RUNNING')
        throw new KeelError(
          'KEEL_E_CONFLICT',
          `run ${runId} has already ended (${now}); it cannot end as ${status}`,
        );
      await c.run('UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?', [
        status,
        clock(),
        error ?? null,
        runId,
      ]);
    });
  }

  async resolveRunId(idOrPrefix: string): Promise<string> {
    return this.read((c) => resolveRunId(c, idOrPrefix));
  }

  async getRun(runIdOrPrefix: string): Promise<RunDetail> {
    return this.read(async (c) => {
      const id = await resolveRunId(c, runIdOrPrefix);
      const [run] = await runDetails(c, this.driver.dialect, [id]);
      if (!run) throw new KeelError('KEEL_E_NOT_FOUND', `run ${id} not found`);
      return run;
    });
  }

  async listRuns(opts: { experiment?: string; limit?: number } = {}): Promise<RunInfo[]> {
    const limit = opts.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new KeelError('KEEL_E_USAGE', `limit must be a non-negative integer, got ${limit}`);
    const rows = await this.read((c) =>
      opts.experiment !== undefined
        ? c.all<Row>(`SELECT ${RUN_COLUMNS} WHERE e.name = ? ORDER BY r.start_time DESC, r.id DESC LIMIT ?`, [
            opts.experiment,
            limit,
          ])
        : c.all<Row>(`SELECT ${RUN_COLUMNS} ORDER BY r.start_time DESC, r.id DESC LIMIT ?`, [limit]),
    );
    return rows.map(toRunInfo);
  }

  async metricHistory(runIdOrPrefix: string, key: string): Promise<MetricPoint[]> {
    const rows = await this.read(async (c) => {
      const id = await resolveRunId(c, runIdOrPrefix);
      return c.all<Row>(
        'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY id',
        [id, key],
      );
    });
    // the rows already have MetricPoint's shape but for the timestamp (both drivers return numbers
    // for value and step); not copying them saves 100k allocations on a long history
    for (const r of rows) {
      if (typeof r.value !== 'number' || typeof r.step !== 'number') {
        r.value = Number(r.value);
        r.step = Number(r.step);
      }
      r.timestamp = isoOf(r.timestamp);
    }
    return rows as unknown as MetricPoint[];
  }

  /**
   * Points of one metric as the UTF-8 bytes of a JSON array of `{"key", "value", "timestamp" (ms),
   * "step"}` objects in the order logged (MLflow's Metric, as get-history answers), written by the
   * database itself: for a 100,000-point history this is several times faster than reading rows
   * into objects and serialising them. ±Infinity is written as the strings "Infinity" and
   * "-Infinity" (protobuf's JSON mapping); NaN is never stored. `more` says whether points follow
   * past offset + limit.
   */
  async metricHistoryJson(
    runIdOrPrefix: string,
    key: string,
    page: { offset?: number; limit?: number } = {},
  ): Promise<{ json: Buffer; count: number; more: boolean }> {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? -1;
    const d = this.driver.dialect;
    const q = d.metricJsonArray(
      'SELECT id, value, timestamp, step FROM metrics WHERE run_id = ? AND key = ? ORDER BY id LIMIT ? OFFSET ?',
    );
    const bind = (id: string) => [key, id, key, limit < 0 ? d.noLimit : limit, offset];
    const finish = async (
      r: { json: string | Buffer | null; n: number } | undefined,
      id: string,
      c?: SqlConn,
    ) => {
      const count = Number(r?.n ?? 0);
      const more =
        limit >= 0 &&
        count === limit &&
        (await (c ? c.get.bind(c) : this.driver.readOne.bind(this.driver))(
          'SELECT 1 AS x FROM metrics WHERE run_id = ? AND key = ? ORDER BY id LIMIT 1 OFFSET ?',
          [id, key, offset + limit],
        )) !== undefined;
      let json = r?.json ?? '[]';
      if (q.finish && typeof json === 'string') json = q.finish(json);
      return { json: typeof json === 'string' ? Buffer.from(json, 'utf8') : json, count, more };
    };
    // a full run id with points: one statement, no transaction (one round trip on PostgreSQL)
    if (/^[0-9a-f]{32}$/.test(runIdOrPrefix)) {
      await this.ready;
      const r = await this.driver.readOne<{ json: string | Buffer | null; n: number }>(
        q.sql,
        bind(runIdOrPrefix),
      );
      if (Number(r?.n ?? 0) > 0) return finish(r, runIdOrPrefix);
    }
    // a prefix, or no points (is there such a run?): resolve the id and read in one snapshot
    return this.read(async (c) => {
      const id = await resolveRunId(c, runIdOrPrefix);
      return finish(await c.get<{ json: string | Buffer | null; n: number }>(q.sql, bind(id)), id, c);
    });
  }

  // ---- registry (sql-registry.ts) ----

  async createModelVersion(opts: registry.NewVersion): Promise<ModelVersion> {
    registry.checkModelName(opts.name);
    return this.write(async (c) => {
      if (opts.runId !== null) await requireRun(c, opts.runId);
      return registry.createModelVersion(c, opts, clock());
    });
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.read((c) => registry.modelVersion(c, name, version));
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    return this.read((c) => registry.versionByAlias(c, name, alias));
  }

  async setAlias(name: string, alias: string, version: number, opts: registry.AuditOpts = {}): Promise<void> {
    registry.checkAlias(alias);
    return this.write((c) => registry.setAlias(c, name, alias, version, opts, clock()));
  }

  async deleteAlias(name: string, alias: string, opts: registry.AuditOpts = {}): Promise<void> {
    return this.write((c) => registry.deleteAlias(c, name, alias, opts, clock()));
  }

  async transitionModelVersionStage(
    name: string,
    version: number,
    stage: ModelStage,
    opts: { archiveExisting?: boolean; actor?: string; reason?: string } = {},
  ): Promise<ModelVersion> {
    registry.checkStage(stage);
    return this.write((c) => registry.transitionStage(c, name, version, stage, opts, clock()));
  }

  async createRegisteredModel(
    name: string,
    opts: { description?: string; actor?: string } = {},
  ): Promise<RegisteredModel> {
    registry.checkModelName(name);
    return this.write((c) => registry.createRegisteredModel(c, name, opts, clock()));
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.read((c) => registry.registeredModel(c, name));
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    return this.read((c) => registry.listRegisteredModels(c));
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    return this.read((c) => registry.listModelVersions(c, name));
  }

  async auditLog(name?: string): Promise<AuditEntry[]> {
    return this.read((c) => registry.auditLog(c, name));
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.driver.close();
  }
}

async function experiment(c: SqlConn, name: string): Promise<Experiment> {
  if (typeof name !== 'string' || name.trim() === '')
    throw new KeelError('KEEL_E_USAGE', 'an experiment name must be a non-empty string', {
      path: ['experiment'],
    });
  await c.run(
    'INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
    [newId(), name, clock()],
  );
  return toExperiment(
    (await c.get<Row>('SELECT id, name, created_at FROM experiments WHERE name = ?', [name]))!,
  );
}

/**
 * Validated metric rows (run_id, key, value, step, timestamp in integer ms); ts (ms) for points
 * without a timestamp. A timestamp is ms since the epoch or an ISO-8601 text.
 */
function metricRows(runId: string, points: MetricInput[], ts: number): unknown[][] {
  const rows: unknown[][] = new Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (typeof p.value !== 'number' || Number.isNaN(p.value))
      throw new KeelError('KEEL_E_INPUT', `metric "${p.key}" must be a number, got ${String(p.value)}`, {
        path: ['metrics', i, p.key],
      });
    const step = p.step ?? 0;
    if (!Number.isSafeInteger(step))
      throw new KeelError('KEEL_E_INPUT', `metric "${p.key}" step must be an integer, got ${step}`, {
        path: ['metrics', i, 'step'],
      });
    if (typeof p.key !== 'string' || p.key === '')
      throw new KeelError('KEEL_E_INPUT', 'a metric key must be a non-empty string', {
        path: ['metrics', i],
      });
    const t = p.timestamp;
    const ms = t === undefined ? ts : typeof t === 'number' ? t : Date.parse(t);
    if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS)
      throw new KeelError(
        'KEEL_E_INPUT',
        `metric "${p.key}" timestamp must be milliseconds since the epoch or an ISO time, got ${JSON.stringify(t)}`,
        { path: ['metrics', i, 'timestamp'] },
      );
    rows[i] = [runId, p.key, p.value, step, ms];
  }
  return rows;
}

/** New params; the same value again is a no-op, a different value a KEEL_E_CONFLICT. */
async function putParams(c: SqlConn, runId: string, params: Record<string, ParamValue>): Promise<void> {
  if (Object.keys(params).length === 0) return;
  const old = new Map(
    (
      await c.all<{ key: string; value: string }>('SELECT key, value FROM params WHERE run_id = ?', [runId])
    ).map((r) => [r.key, r.value]),
  );
  const rows: unknown[][] = [];
  for (const [key, v] of Object.entries(params)) {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw new KeelError('KEEL_E_INPUT', `param "${key}" must be a string, number or boolean`, {
        path: ['params', key],
      });
    const value = String(v);
    const before = old.get(key);
    if (before === undefined) rows.push([runId, key, value]);
    else if (before !== value)
      throw new KeelError(
        'KEEL_E_CONFLICT',
        `param "${key}" of run ${runId} is already "${before}"; it cannot change to "${value}"`,
        { path: ['params', key] },
      );
  }
  await c.runMany('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)', rows);
}

async function putTags(c: SqlConn, runId: string, tags: Record<string, string>): Promise<void> {
  await c.runMany(
    'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
    Object.entries(tags).map(([k, v]) => [runId, k, String(v)]),
  );
}

async function requireRun(c: SqlConn, runId: string): Promise<{ status: RunStatus }> {
  const r = await c.get<{ status: RunStatus }>('SELECT status FROM runs WHERE id = ?', [runId]);
  if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `run ${runId} not found`);
  return r;
}

/** The run id itself, or the one run whose id starts with a hex prefix of 6 or more characters. */
async function resolveRunId(c: SqlConn, idOrPrefix: string): Promise<string> {
  if (await c.get('SELECT id FROM runs WHERE id = ?', [idOrPrefix])) return idOrPrefix;
  if (/^[0-9a-f]{6,31}$/i.test(idOrPrefix)) {
    const rows = await c.all<{ id: string }>('SELECT id FROM runs WHERE id LIKE ? ORDER BY id LIMIT 3', [
      `${idOrPrefix.toLowerCase()}%`,
    ]);
    if (rows.length === 1) return rows[0].id;
    if (rows.length > 1)
      throw new KeelError(
        'KEEL_E_USAGE',
        `run id prefix "${idOrPrefix}" matches several runs (${rows.map((r) => r.id.slice(0, 12)).join(', ')}${rows.length > 2 ? ', ...' : ''}); give more characters`,
      );
  }
  throw new KeelError('KEEL_E_NOT_FOUND', `run ${idOrPrefix} not found`);
}

async function runInfo(c: SqlConn, id: string): Promise<RunInfo> {
  const r = await c.get<Row>(`SELECT ${RUN_COLUMNS} WHERE r.id = ?`, [id]);
  if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `run ${id} not found`);
  return toRunInfo(r);
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
    lifecycleStage: (r.lifecycle_stage as RunInfo['lifecycleStage'] | undefined) ?? 'active',
  };
}

/**
 * Whole runs (info, params, latest metrics, tags, artifacts, inputs) for ids, in that order: the
 * runs' rows (unless given, as a search selects them) and everything else in one UNION ALL query
 * as text, numbers in a form that reads back exactly: two round trips instead of six.
 */
async function runDetails(c: SqlConn, d: SqlDialect, ids: string[], infoRows?: Row[]): Promise<RunDetail[]> {
  const byId = new Map<string, RunDetail>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const marks = chunk.map(() => '?').join(', ');
    const info = infoRows ?? (await c.all<Row>(`SELECT ${RUN_COLUMNS} WHERE r.id IN (${marks})`, chunk));
    for (const r of infoRows ? info.slice(i, i + 500) : info)
      byId.set(r.id as string, {
        ...toRunInfo(r),
        params: {},
        metrics: {},
        latestMetrics: [],
        tags: {},
        artifacts: [],
        inputs: [],
      });
    const get = (id: unknown) => byId.get(id as string) as RunDetail;
    const rest = await c.all<Row>(
      `SELECT 'p' AS kind, run_id, key AS a, value AS b, CAST(NULL AS TEXT) AS c, CAST(NULL AS TEXT) AS x, CAST(NULL AS TEXT) AS y FROM params WHERE run_id IN (${marks}) ` +
        `UNION ALL SELECT 't', run_id, key, value, NULL, NULL, NULL FROM tags WHERE run_id IN (${marks}) ` +
        `UNION ALL SELECT 'a', run_id, name, sha256, CAST(size AS TEXT), uri, NULL FROM artifacts WHERE run_id IN (${marks}) ` +
        `UNION ALL SELECT 'i', run_id, context, name, sha256, source, CAST(row_count AS TEXT) FROM dataset_inputs WHERE run_id IN (${marks}) ` +
        `UNION ALL SELECT 'm', run_id, key, ${d.realText('value')}, CAST(step AS TEXT), CAST(timestamp AS TEXT), NULL FROM metrics ` +
        `WHERE id IN (SELECT MAX(id) FROM metrics WHERE run_id IN (${marks}) GROUP BY run_id, key) ` +
        'ORDER BY 1, 2, 3, 4',
      [...chunk, ...chunk, ...chunk, ...chunk, ...chunk],
    );
    for (const r of rest) {
      const run = get(r.run_id);
      const a = r.a as string;
      const b = r.b as string;
      if (r.kind === 'p') run.params[a] = b;
      else if (r.kind === 't') run.tags[a] = b;
      else if (r.kind === 'a')
        run.artifacts.push(registry.toArtifactRef({ name: a, sha256: b, size: r.c, uri: r.x }));
      else if (r.kind === 'i')
        run.inputs.push({
          name: b,
          sha256: r.c as string,
          source: r.x as string,
          rows: Number(r.y),
          context: a,
        });
      else {
        const value = numberFromText(b);
        run.metrics[a] = value;
        run.latestMetrics.push({ key: a, value, step: Number(r.c), timestamp: isoOf(r.x) });
      }
    }
  }
  return ids.map((id) => byId.get(id)).filter((r): r is RunDetail => r !== undefined);
}
