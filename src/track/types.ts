/**
 * The contracts of src/track: one async store interface for runs and the model registry, with
 * SQLite as the embedded default (SqliteStore) and PostgreSQL to come behind the same interface;
 * and one artifact store interface (a local directory: FsArtifactStore; an S3-compatible bucket:
 * S3ArtifactStore).
 */

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ParamValue = string | number | boolean;

export interface Experiment {
  id: string;
  name: string;
  createdAt: string; // ISO 8601
}

export interface RunInfo {
  id: string;
  experimentId: string;
  experimentName: string;
  name: string | null;
  status: RunStatus;
  startTime: string;
  endTime: string | null;
  gitCommit: string | null;
  error: string | null;
  /** 'deleted' after deleteRun (MLflow's soft delete); searches skip deleted runs by default. */
  lifecycleStage: LifecycleStage;
}

export type LifecycleStage = 'active' | 'deleted';

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: string;
}

/** One point for logMetricBatch: step defaults to 0, timestamp to the time of the call. */
export interface MetricInput {
  key: string;
  value: number;
  step?: number;
  /** Milliseconds since the epoch, or an ISO-8601 time (kept to the millisecond). */
  timestamp?: number | string;
}

export interface ArtifactRef {
  /** Name within the run, e.g. "model/model.json" or "reports/validation.json". */
  name: string;
  sha256: string;
  size: number;
  /** Where the bytes live, relative to the artifact store (directory or bucket prefix): <sha[0:2]>/<sha>. */
  uri: string;
}

export interface DatasetInput {
  name: string;
  sha256: string;
  /** Where the data came from (a path or URL), informational. */
  source: string;
  rows: number;
  /** How the run used it: 'train', 'validation', 'test', 'raw'... */
  context: string;
}

export interface RunDetail extends RunInfo {
  params: Record<string, string>;
  /** The last value of each metric. */
  metrics: Record<string, number>;
  /** The last point of each metric (value, step, timestamp), by key. */
  latestMetrics: MetricPoint[];
  tags: Record<string, string>;
  artifacts: ArtifactRef[];
  inputs: DatasetInput[];
}

export interface RegisteredModel {
  name: string;
  description: string | null;
  createdAt: string;
  latestVersion: number | null;
  aliases: Record<string, number>;
}

export interface ModelVersion {
  name: string;
  version: number;
  runId: string | null;
  /** The artifact that holds the model document (model.json). */
  artifact: ArtifactRef;
  createdAt: string;
  description: string | null;
  aliases: string[];
  /** MLflow's legacy stage: 'None', 'Staging', 'Production' or 'Archived'. */
  stage: ModelStage;
}

export type ModelStage = 'None' | 'Staging' | 'Production' | 'Archived';

/** searchRuns: MLflow's filter syntax, order-by clauses and opaque page tokens. */
export interface SearchRunsOptions {
  /** Experiment ids to search; empty or absent = every experiment. */
  experimentIds?: string[];
  /** e.g. `metrics.auc > 0.8 and params.model = 'gbdt' and attributes.status = 'FINISHED'`. */
  filter?: string;
  /** e.g. ['metrics.auc DESC', 'attributes.start_time']; ties end with start_time DESC, run id. */
  orderBy?: string[];
  /** Default 1000, at most 50,000. */
  maxResults?: number;
  /** The nextPageToken of the previous page of the same search. */
  pageToken?: string | null;
  /** Default ACTIVE_ONLY. */
  runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface RunPage {
  runs: RunDetail[];
  /** null on the last page. */
  nextPageToken: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string; // 'create_model', 'create_version', 'set_alias', 'delete_alias'
  model: string;
  alias: string | null;
  fromVersion: number | null;
  toVersion: number | null;
  reason: string | null;
}

/**
 * Every method rejects with a KeelError: KEEL_E_NOT_FOUND (unknown run, model, version),
 * KEEL_E_CONFLICT (a param changing value, ending a run twice), KEEL_E_INPUT / KEEL_E_USAGE (bad
 * names, non-numeric metrics, ambiguous run id prefix) or KEEL_E_STORE (the database failed).
 * Every call that writes more than one row is atomic: on failure nothing of it is written.
 */
/** An alias that moved or was deleted (see TrackingStore.subscribeRegistry). */
export interface RegistryChange {
  model: string;
  alias: string;
}

export interface RegistrySubscription {
  close(): Promise<void>;
}

/** A store that can tell at once when an alias moves (PostgreSQL: LISTEN/NOTIFY); others are polled. */
export interface RegistryNotifier {
  subscribeRegistry(listener: (change: RegistryChange) => void): Promise<RegistrySubscription>;
}

export function canNotify(store: object): store is RegistryNotifier {
  return typeof (store as Partial<RegistryNotifier>).subscribeRegistry === 'function';
}

/** A store that writes a metric's history as JSON itself (the SQL stores); see SqlTrackingStore. */
export interface JsonMetricHistory {
  metricHistoryJson(
    runIdOrPrefix: string,
    key: string,
    page?: { offset?: number; limit?: number },
  ): Promise<{ json: Buffer; count: number; more: boolean }>;
}

export function hasJsonHistory(store: object): store is JsonMetricHistory {
  return typeof (store as Partial<JsonMetricHistory>).metricHistoryJson === 'function';
}

export interface TrackingStore {
  // experiments
  getOrCreateExperiment(name: string): Promise<Experiment>;
  /** A new experiment; KEEL_E_CONFLICT when the name is taken. */
  createExperiment(name: string): Promise<Experiment>;
  /** By id; KEEL_E_NOT_FOUND when unknown. */
  getExperiment(id: string): Promise<Experiment>;
  /** By name; KEEL_E_NOT_FOUND when unknown. */
  getExperimentByName(name: string): Promise<Experiment>;
  listExperiments(): Promise<Experiment[]>;
  // runs
  createRun(opts: {
    experiment: string;
    name?: string;
    tags?: Record<string, string>;
    gitCommit?: string | null;
    /** ISO time; defaults to now. */
    startTime?: string;
  }): Promise<RunInfo>;
  /** MLflow's UpdateRun: set any of status, end time and name (no transition rules). */
  updateRun(
    runId: string,
    changes: { status?: RunStatus; endTime?: string | null; name?: string },
  ): Promise<RunInfo>;
  /** Soft delete (lifecycle 'deleted'); restoreRun undoes it. */
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  /** Runs matching an MLflow filter, ordered and paged (see SearchRunsOptions). */
  searchRuns(opts?: SearchRunsOptions): Promise<RunPage>;
  logParams(runId: string, params: Record<string, ParamValue>): Promise<void>;
  logMetrics(runId: string, metrics: Record<string, number>, step?: number): Promise<void>;
  /** Many metric points (history kept, in order) in one transaction: all or none are written. */
  logMetricBatch(runId: string, points: MetricInput[]): Promise<void>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  /** MLflow's log-batch: metrics, params and tags of one run in one transaction (all or none). */
  logBatch(
    runId: string,
    batch: { metrics?: MetricInput[]; params?: Record<string, ParamValue>; tags?: Record<string, string> },
  ): Promise<void>;
  logDatasetInput(runId: string, input: DatasetInput): Promise<void>;
  /** Record an artifact already written to the artifact store. */
  logArtifact(runId: string, ref: ArtifactRef): Promise<void>;
  /** Ends a RUNNING run; ending a run that has already ended is a KEEL_E_CONFLICT. */
  endRun(runId: string, status: Exclude<RunStatus, 'RUNNING'>, error?: string): Promise<void>;
  /** A run by its id or by an unambiguous prefix of at least 6 characters. */
  getRun(runIdOrPrefix: string): Promise<RunDetail>;
  /** The full id of the one run whose id starts with prefix (≥ 6 chars), or the id itself. */
  resolveRunId(runIdOrPrefix: string): Promise<string>;
  /** Newest first; limit defaults to 100. */
  listRuns(opts?: { experiment?: string; limit?: number }): Promise<RunInfo[]>;
  /** Every point of one metric, in the order logged. */
  metricHistory(runIdOrPrefix: string, key: string): Promise<MetricPoint[]>;
  // registry
  /** Creates the registered model if needed and adds the next version, in one transaction. */
  createModelVersion(opts: {
    name: string;
    runId: string | null;
    artifact: ArtifactRef;
    description?: string;
    actor?: string;
  }): Promise<ModelVersion>;
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  /** null when the model exists but has no such alias; KEEL_E_NOT_FOUND when the model does not. */
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | null>;
  /** Points alias at version (moving it if held by another), recorded in the audit log. */
  setAlias(
    name: string,
    alias: string,
    version: number,
    opts?: { actor?: string; reason?: string },
  ): Promise<void>;
  deleteAlias(name: string, alias: string, opts?: { actor?: string; reason?: string }): Promise<void>;
  /** MLflow's transition-stage; with archiveExisting, other versions in that stage become Archived. */
  transitionModelVersionStage(
    name: string,
    version: number,
    stage: ModelStage,
    opts?: { archiveExisting?: boolean; actor?: string; reason?: string },
  ): Promise<ModelVersion>;
  /** A registered model with no versions yet; KEEL_E_CONFLICT when it exists. */
  createRegisteredModel(
    name: string,
    opts?: { description?: string; actor?: string },
  ): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  listRegisteredModels(): Promise<RegisteredModel[]>;
  /** Newest version first. */
  listModelVersions(name: string): Promise<ModelVersion[]>;
  /** Oldest entry first; the log is append-only. */
  auditLog(name?: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/**
 * Content-addressed bytes. Every method rejects with a KeelError: KEEL_E_INPUT for a uri that
 * would leave the store, KEEL_E_NOT_FOUND for missing bytes, KEEL_E_STORE when the directory or
 * bucket fails or the bytes do not match the ref's sha256.
 */
export interface ArtifactStore {
  /** Store bytes content-addressed; the same content is stored once. */
  put(name: string, data: Uint8Array | string): Promise<ArtifactRef>;
  get(ref: ArtifactRef | string): Promise<Buffer>;
  exists(ref: ArtifactRef | string): Promise<boolean>;
  /** Rejects with KEEL_E_STORE when the store cannot be used (a missing bucket); servers call it at start. */
  check?(): Promise<void>;
}
