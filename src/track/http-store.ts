/**
 * A TrackingStore that lives on a Keel tracking server (`keel server`): every method is one
 * `POST /api/2.0/keel/store/METHOD {"args": [...]}`, so remote mode behaves like a local store,
 * with the same records and the same KEEL_E_* error codes. openStore('http://host:port') and
 * KEEL_TRACKING_URI pick it; a bearer token comes from the options or KEEL_TRACKING_TOKEN.
 * (It lives in track, not server, so that openStore can open it: track depends on nothing else.)
 */
import { type ErrorCode, ErrorCodes, KeelError } from '../core/errors.js';
import type { TrackingStore } from './types.js';

export interface HttpStoreOptions {
  token?: string;
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number;
}

type Methods = Omit<TrackingStore, 'close'>;

/** JSON has no NaN or ±Infinity: both sides write them as {"$keel_number": "Infinity"}. */
export const NUMBER_TAG = '$keel_number';

export function encodeNumbers(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { [NUMBER_TAG]: String(v) } : v;
}

/** The inverse of encodeNumbers over a parsed value, in place where possible. */
export function decodeNumbers(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = decodeNumbers(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o[NUMBER_TAG] === 'string' && Object.keys(o).length === 1) return Number(o[NUMBER_TAG]);
    for (const k of Object.keys(o)) o[k] = decodeNumbers(o[k]);
  }
  return v;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

export class HttpStore implements TrackingStore {
  private readonly base: string;
  private readonly token?: string;
  private readonly timeoutMs: number;

  constructor(url: string, options: HttpStoreOptions = {}) {
    if (!/^https?:\/\//i.test(url))
      throw new KeelError(
        'KEEL_E_CONFIG',
        `a tracking server URL starts with http:// or https://, got "${url}"`,
      );
    this.base = url.replace(/\/+$/, '');
    this.token = options.token ?? process.env.KEEL_TRACKING_TOKEN;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  private async call<M extends keyof Methods>(
    method: M,
    args: Parameters<Methods[M]>,
  ): Promise<Awaited<ReturnType<Methods[M]>>> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/2.0/keel/store/${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ args }, encodeNumbers),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot reach the tracking server at ${this.base}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    const text = await res.text().catch(() => '');
    const body = decodeNumbers(safeJson(text)) as {
      result?: unknown;
      error_code?: string;
      message?: string;
      keel_code?: string;
      keel_details?: unknown;
    };
    if (res.ok) return ('result' in body ? body.result : undefined) as Awaited<ReturnType<Methods[M]>>;
    const code: ErrorCode =
      body.keel_code && body.keel_code in ErrorCodes
        ? (body.keel_code as ErrorCode)
        : res.status === 404
          ? 'KEEL_E_NOT_FOUND'
          : res.status === 401 || res.status === 403
            ? 'KEEL_E_CONFIG'
            : res.status < 500
              ? 'KEEL_E_USAGE'
              : 'KEEL_E_STORE';
    const message = body.message ?? `the tracking server at ${this.base} answered HTTP ${res.status}`;
    throw new KeelError(
      code,
      message,
      {},
      body.keel_details === undefined ? undefined : { details: body.keel_details },
    );
  }

  getOrCreateExperiment: Methods['getOrCreateExperiment'] = (...a) => this.call('getOrCreateExperiment', a);
  createExperiment: Methods['createExperiment'] = (...a) => this.call('createExperiment', a);
  getExperiment: Methods['getExperiment'] = (...a) => this.call('getExperiment', a);
  getExperimentByName: Methods['getExperimentByName'] = (...a) => this.call('getExperimentByName', a);
  listExperiments: Methods['listExperiments'] = (...a) => this.call('listExperiments', a);
  createRun: Methods['createRun'] = (...a) => this.call('createRun', a);
  updateRun: Methods['updateRun'] = (...a) => this.call('updateRun', a);
  deleteRun: Methods['deleteRun'] = (...a) => this.call('deleteRun', a);
  restoreRun: Methods['restoreRun'] = (...a) => this.call('restoreRun', a);
  searchRuns: Methods['searchRuns'] = (...a) => this.call('searchRuns', a);
  logParams: Methods['logParams'] = (...a) => this.call('logParams', a);
  logMetrics: Methods['logMetrics'] = (...a) => this.call('logMetrics', a);
  logMetricBatch: Methods['logMetricBatch'] = (...a) => this.call('logMetricBatch', a);
  setTags: Methods['setTags'] = (...a) => this.call('setTags', a);
  logBatch: Methods['logBatch'] = (...a) => this.call('logBatch', a);
  logDatasetInput: Methods['logDatasetInput'] = (...a) => this.call('logDatasetInput', a);
  logArtifact: Methods['logArtifact'] = (...a) => this.call('logArtifact', a);
  endRun: Methods['endRun'] = (...a) => this.call('endRun', a);
  getRun: Methods['getRun'] = (...a) => this.call('getRun', a);
  resolveRunId: Methods['resolveRunId'] = (...a) => this.call('resolveRunId', a);
  listRuns: Methods['listRuns'] = (...a) => this.call('listRuns', a);
  metricHistory: Methods['metricHistory'] = (...a) => this.call('metricHistory', a);
  createModelVersion: Methods['createModelVersion'] = (...a) => this.call('createModelVersion', a);
  getModelVersion: Methods['getModelVersion'] = (...a) => this.call('getModelVersion', a);
  getModelVersionByAlias: Methods['getModelVersionByAlias'] = (...a) =>
    this.call('getModelVersionByAlias', a);
  setAlias: Methods['setAlias'] = (...a) => this.call('setAlias', a);
  deleteAlias: Methods['deleteAlias'] = (...a) => this.call('deleteAlias', a);
  transitionModelVersionStage: Methods['transitionModelVersionStage'] = (...a) =>
    this.call('transitionModelVersionStage', a);
  createRegisteredModel: Methods['createRegisteredModel'] = (...a) => this.call('createRegisteredModel', a);
  getRegisteredModel: Methods['getRegisteredModel'] = (...a) => this.call('getRegisteredModel', a);
  listRegisteredModels: Methods['listRegisteredModels'] = (...a) => this.call('listRegisteredModels', a);
  listModelVersions: Methods['listModelVersions'] = (...a) => this.call('listModelVersions', a);
  auditLog: Methods['auditLog'] = (...a) => this.call('auditLog', a);

  async close(): Promise<void> {}
}
