/**
 * Keel's records as MLflow REST 2.0 JSON (snake_case, times in milliseconds since the epoch,
 * versions as strings, key/value lists), following mlflow/protos/service.proto and
 * model_registry.proto.
 */
import type {
  Experiment,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  RunDetail,
  RunInfo,
} from '../track/index.js';

export const RUN_NAME_TAG = 'mlflow.runName';
export const USER_TAG = 'mlflow.user';

export const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

export function experimentJson(e: Experiment) {
  const t = ms(e.createdAt);
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: `mlflow-artifacts:/${e.id}`,
    lifecycle_stage: 'active',
    creation_time: t,
    last_update_time: t,
    tags: [] as { key: string; value: string }[],
  };
}

export function runInfoJson(r: RunInfo, tags: Record<string, string> = {}) {
  return {
    run_id: r.id,
    run_uuid: r.id,
    run_name: r.name ?? '',
    experiment_id: r.experimentId,
    user_id: tags[USER_TAG] ?? '',
    status: r.status,
    start_time: ms(r.startTime),
    ...(r.endTime === null ? {} : { end_time: ms(r.endTime) }),
    artifact_uri: `mlflow-artifacts:/${r.experimentId}/${r.id}/artifacts`,
    lifecycle_stage: r.lifecycleStage,
  };
}

/** A double as protobuf's JSON mapping writes it: non-finite values as "NaN", "Infinity", "-Infinity". */
export const doubleJson = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

export const metricJson = (m: MetricPoint) => ({
  key: m.key,
  value: doubleJson(m.value),
  timestamp: isoMs(m.timestamp),
  step: m.step,
});

/** A response body already serialised (large lists written without a generic JSON.stringify pass). */
export class JsonText {
  /** The JSON as text, or as its UTF-8 bytes. */
  constructor(readonly text: string | Buffer) {}
}

/** The decimal digits of s[a, b) as a number. */
function digits(s: string, a: number, b: number): number {
  let x = 0;
  for (let i = a; i < b; i++) x = x * 10 + s.charCodeAt(i) - 48;
  return x;
}

/** ISO `YYYY-MM-DDTHH:MM:SS.sssZ` (as the store writes it) to ms, ~3x faster than Date.parse. */
export function isoMs(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */) return Date.parse(s);
  return Date.UTC(
    digits(s, 0, 4),
    digits(s, 5, 7) - 1,
    digits(s, 8, 10),
    digits(s, 11, 13),
    digits(s, 14, 16),
    digits(s, 17, 19),
    digits(s, 20, 23),
  );
}

/**
 * `{"metrics": [...], "next_page_token"?: ...}` for get-history, for 100k-point histories: the
 * points (fresh from the store, owned by this request) get their timestamps turned into ms in
 * place and go through one JSON.stringify (±Infinity as protobuf's strings). The SQL stores write
 * this JSON themselves (metricHistoryJson); this is for any other store.
 * Measured: new objects per point cost more in garbage collection than the rest together.
 */
export function metricHistoryText(points: MetricPoint[], nextPageToken?: string): JsonText {
  const out = points as unknown as { timestamp: string | number; value: number | string }[];
  for (const p of out) {
    p.timestamp = isoMs(p.timestamp as string);
    if (!Number.isFinite(p.value)) p.value = String(p.value);
  }
  return new JsonText(
    JSON.stringify(
      nextPageToken === undefined ? { metrics: out } : { metrics: out, next_page_token: nextPageToken },
    ),
  );
}

const kv = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));

export function runJson(r: RunDetail) {
  const tags = { ...r.tags };
  if (r.name !== null && tags[RUN_NAME_TAG] === undefined) tags[RUN_NAME_TAG] = r.name;
  return {
    info: runInfoJson(r, r.tags),
    data: {
      metrics: r.latestMetrics.map(metricJson),
      params: kv(r.params),
      tags: kv(tags),
    },
    inputs: {
      dataset_inputs: r.inputs.map((d) => ({
        tags: [{ key: 'mlflow.data.context', value: d.context }],
        dataset: {
          name: d.name,
          digest: d.sha256.slice(0, 16),
          source_type: 'local',
          source: d.source.startsWith('{') ? d.source : JSON.stringify({ uri: d.source }),
          profile: JSON.stringify({ num_rows: d.rows }),
        },
      })),
    },
  };
}

/** Where a version's model lives, as MLflow names it. */
export function versionSource(v: ModelVersion): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(v.artifact.uri)) return v.artifact.uri;
  return v.runId ? `runs:/${v.runId}/${v.artifact.name}` : v.artifact.uri;
}

export function modelVersionJson(v: ModelVersion) {
  const t = ms(v.createdAt);
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: t,
    last_updated_timestamp: t,
    user_id: '',
    current_stage: v.stage,
    description: v.description ?? '',
    source: versionSource(v),
    run_id: v.runId ?? '',
    run_link: '',
    status: 'READY',
    aliases: v.aliases,
    tags: [] as { key: string; value: string }[],
  };
}

/** latest_versions: the newest version in each stage, as MLflow reports it. */
export function registeredModelJson(m: RegisteredModel, versions: ModelVersion[]) {
  const latest = new Map<string, ModelVersion>();
  for (const v of versions) {
    const cur = latest.get(v.stage);
    if (!cur || v.version > cur.version) latest.set(v.stage, v);
  }
  const newest = versions.reduce((t, v) => Math.max(t, Date.parse(v.createdAt)), Date.parse(m.createdAt));
  return {
    name: m.name,
    creation_timestamp: ms(m.createdAt),
    last_updated_timestamp: newest,
    description: m.description ?? '',
    latest_versions: [...latest.values()].sort((a, b) => a.version - b.version).map(modelVersionJson),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
    tags: [] as { key: string; value: string }[],
  };
}
