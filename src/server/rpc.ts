/**
 * Keel's own remote store protocol, beside the MLflow API: `POST /api/2.0/keel/store/METHOD` with
 * `{"args": [...]}` calls that TrackingStore method on the server's store and answers
 * `{"result": ...}`, so the HTTP client (track/http-store.ts) behaves exactly like a local store:
 * the same records, the same KEEL_E_* codes (sent as `keel_code` beside MLflow's `error_code`).
 */
import type { TrackingStore } from '../track/index.js';

export const RPC = '/api/2.0/keel/store';

/** Every TrackingStore method but close, and whether it writes. */
export const STORE_METHODS: Record<Exclude<keyof TrackingStore, 'close'>, { write: boolean }> = {
  getOrCreateExperiment: { write: true },
  createExperiment: { write: true },
  getExperiment: { write: false },
  getExperimentByName: { write: false },
  listExperiments: { write: false },
  createRun: { write: true },
  updateRun: { write: true },
  deleteRun: { write: true },
  restoreRun: { write: true },
  searchRuns: { write: false },
  logParams: { write: true },
  logMetrics: { write: true },
  logMetricBatch: { write: true },
  setTags: { write: true },
  logBatch: { write: true },
  logDatasetInput: { write: true },
  logArtifact: { write: true },
  endRun: { write: true },
  getRun: { write: false },
  resolveRunId: { write: false },
  listRuns: { write: false },
  metricHistory: { write: false },
  createModelVersion: { write: true },
  getModelVersion: { write: false },
  getModelVersionByAlias: { write: false },
  setAlias: { write: true },
  deleteAlias: { write: true },
  transitionModelVersionStage: { write: true },
  createRegisteredModel: { write: true },
  getRegisteredModel: { write: false },
  listRegisteredModels: { write: false },
  listModelVersions: { write: false },
  auditLog: { write: false },
};

export { decodeNumbers, encodeNumbers } from '../track/index.js';
