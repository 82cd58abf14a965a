/**
 * MLflow REST API 2.0, tracking and registry subset, as a table of routes: method, path, whether
 * it writes, the request schema (zod; query string and JSON body merged, int64 fields accepted as
 * numbers or strings as protobuf's JSON mapping writes them) and a handler over the TrackingStore.
 * The same table drives the Fastify routes, the auth check (`write`) and /openapi.json.
 */
import { z } from 'zod';
import {
  type Comparison,
  hasJsonHistory,
  type ModelStage,
  type ModelVersion,
  parseEntityFilter,
  type RegisteredModel,
  searchError,
  type TrackingStore,
} from '../track/index.js';
import {
  experimentJson,
  JsonText,
  metricHistoryText,
  modelVersionJson,
  RUN_NAME_TAG,
  registeredModelJson,
  runInfoJson,
  runJson,
} from './convert.js';
import { ApiError, alreadyExists } from './errors.js';

export interface RouteContext {
  store: TrackingStore;
  /** Who the audit log names: the token's name when auth is on, else 'api'. */
  actor: string;
}

export interface Route<S extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  write: boolean;
  summary: string;
  input: S;
  /** A faster validator with the same result as input.safeParse (for 100k-point batches); docs still come from input. */
  parse?: (raw: unknown) => { success: true; data: z.output<S> } | { success: false; message: string };
  handler: (input: z.output<S>, ctx: RouteContext) => Promise<unknown>;
}

const route = <S extends z.ZodType>(r: Route<S>): Route => r as unknown as Route;

export const API = '/api/2.0/mlflow';

// ---- field types ----

const int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
const double = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)
    .transform(Number),
]);
const str = z.string();
const nonEmpty = (what: string) =>
  z.string({ error: `missing value for required parameter '${what}'` }).min(1, `'${what}' must not be empty`);
const keyValues = z.array(z.object({ key: str, value: z.string() })).default([]);
const stringList = z.union([z.array(str), str.transform((s) => [s])]);
const maxResults = (max: number) => int64.pipe(z.number().int().min(1).max(max)).optional();
const runId = z.object({ run_id: str.optional(), run_uuid: str.optional() }).transform((o, ctx) => {
  const id = o.run_id ?? o.run_uuid;
  if (!id) {
    ctx.addIssue({
      code: 'custom',
      message: "missing value for required parameter 'run_id'",
      path: ['run_id'],
    });
    return z.NEVER;
  }
  return id;
});
const version = int64.pipe(z.number().int().min(1));

const withRun = <T extends z.ZodRawShape>(shape: T) =>
  z.object({ run_id: str.optional(), run_uuid: str.optional(), ...shape }).transform((o, ctx) => {
    const id = runId.safeParse(o);
    if (!id.success) {
      ctx.addIssue({
        code: 'custom',
        message: "missing value for required parameter 'run_id'",
        path: ['run_id'],
      });
      return z.NEVER;
    }
    return { ...o, run_id: id.data };
  });

// ---- paging over lists computed in memory ----

/** The offset a page token of these lists carries; INVALID_PARAMETER_VALUE if it is not one. */
function pageOffset(token: string): number {
  let offset: unknown;
  try {
    offset = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).offset;
  } catch {
    offset = Number.NaN;
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0)
    throw new ApiError('INVALID_PARAMETER_VALUE', `invalid page token "${token.slice(0, 40)}"`);
  return offset as number;
}

const offsetToken = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');

function page<T>(items: T[], max: number, token: string | undefined): { items: T[]; next?: string } {
  const offset = token ? pageOffset(token) : 0;
  const slice = items.slice(offset, offset + max);
  const more = offset + max < items.length;
  return { items: slice, ...(more ? { next: offsetToken(offset + max) } : {}) };
}

// ---- filters over experiments and the registry, matched in memory ----

function likeRegex(pattern: string, ci: boolean): RegExp {
  const body = [...pattern]
    .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, ci ? 'is' : 's');
}

function matches(c: Comparison, v: string | number | null | undefined): boolean {
  if (v === null || v === undefined) return false;
  switch (c.op) {
    case 'LIKE':
    case 'ILIKE':
      return likeRegex(c.value as string, c.op === 'ILIKE').test(String(v));
    case 'IN':
      return (c.value as string[]).includes(String(v));
    case 'NOT IN':
      return !(c.value as string[]).includes(String(v));
  }
  const [a, b] = typeof c.value === 'number' ? [Number(v), c.value] : [String(v), c.value as string];
  switch (c.op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    default:
      return a <= b;
  }
}

/** Parse a filter whose keys must be attributes among `keys`; returns a predicate over records. */
function entityFilter<T>(
  filter: string | undefined,
  keys: Record<string, (t: T) => string | number | null>,
): (t: T) => boolean {
  const comparisons = parseEntityFilter(filter);
  for (const c of comparisons)
    if (c.entity !== 'attribute' || !(c.key in keys))
      throw searchError(
        'filter',
        filter ?? '',
        c.position,
        `unsupported key "${c.entity === 'attribute' ? '' : `${c.entity}s.`}${c.key}": filter on ${Object.keys(keys).join(', ')}`,
      );
  return (t) => comparisons.every((c) => matches(c, keys[c.key](t)));
}

/** Sort by order_by clauses such as `name DESC` over the given keys; default first. */
function sorter<T>(
  orderBy: string[] | undefined,
  keys: Record<string, (t: T) => string | number | null>,
  fallback: string[],
): (a: T, b: T) => number {
  const clauses = (orderBy && orderBy.length > 0 ? orderBy : fallback).map((o) => {
    const m = /^\s*(?:attributes?\.)?([A-Za-z_]+)\s*(ASC|DESC)?\s*$/i.exec(o);
    if (!m || !(m[1] in keys))
      throw new ApiError(
        'INVALID_PARAMETER_VALUE',
        `invalid order_by clause "${o}": use one of ${Object.keys(keys).join(', ')} with ASC or DESC`,
      );
    return { get: keys[m[1]], sign: m[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return (a, b) => {
    for (const c of clauses) {
      const x = c.get(a);
      const y = c.get(b);
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * c.sign;
    }
    return 0;
  };
}

const STAGES: Record<string, ModelStage> = {
  none: 'None',
  staging: 'Staging',
  production: 'Production',
  archived: 'Archived',
};

/** MLflow clients log to experiment "0" ("Default") unless told otherwise. */
const DEFAULT_EXPERIMENT_ID = '0';

async function experimentById(store: TrackingStore, id: string) {
  return id === DEFAULT_EXPERIMENT_ID ? store.getOrCreateExperiment('Default') : store.getExperiment(id);
}

async function allVersions(store: TrackingStore): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  for (const m of await store.listRegisteredModels()) out.push(...(await store.listModelVersions(m.name)));
  return out;
}

async function modelJson(store: TrackingStore, m: RegisteredModel) {
  return registeredModelJson(m, await store.listModelVersions(m.name));
}

/** The run artifact a model version's source names (runs:/ID/path or mlflow-artifacts:/…/ID/artifacts/path). */
async function sourceArtifact(store: TrackingStore, source: string, runId: string | undefined) {
  const m =
    /^runs:\/([^/]+)\/?(.*)$/.exec(source) ??
    /^mlflow-artifacts:\/[^/]+\/([^/]+)\/artifacts\/?(.*)$/.exec(source);
  const id = m?.[1] ?? runId;
  if (!m || !id) return null;
  const run = await store.getRun(id);
  const path = m[2].replace(/\/+$/, '');
  return (
    run.artifacts.find((a) => a.name === path) ??
    run.artifacts.find((a) => a.name === `${path}/model.json`) ??
    run.artifacts.find((a) => path === '' || a.name.startsWith(`${path}/`)) ??
    null
  );
}

interface MetricIn {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

/** An int64 field as protobuf JSON writes it (a number or a string of digits); undefined if absent, NaN if bad. */
function int64Of(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : Number.NaN;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return Number.NaN;
}

function doubleOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (
    typeof v === 'string' &&
    (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) || ['NaN', 'Infinity', '-Infinity'].includes(v))
  )
    return Number(v);
  return undefined;
}

/** log-batch validated by hand: zod takes ~10x longer on a 100,000-point batch. */
type LogBatchIn = {
  run_id: string;
  metrics: MetricIn[];
  params: { key: string; value: string }[];
  tags: { key: string; value: string }[];
};

function parseLogBatch(
  raw: unknown,
): { success: true; data: LogBatchIn } | { success: false; message: string } {
  const o = (raw ?? {}) as Record<string, unknown>;
  const fail = (message: string) => ({ success: false as const, message });
  const runId = o.run_id ?? o.run_uuid;
  if (typeof runId !== 'string' || runId === '')
    return fail("run_id: missing value for required parameter 'run_id'");
  const list = (name: string) => {
    const v = o[name];
    return v === undefined || v === null ? [] : Array.isArray(v) ? v : null;
  };
  const ms = list('metrics');
  const ps = list('params');
  const ts = list('tags');
  if (!ms || !ps || !ts) return fail('metrics, params and tags must be lists');
  const metrics: MetricIn[] = new Array(ms.length);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) return fail(`metrics.${i}: expected an object`);
    if (typeof m.key !== 'string' || m.key === '')
      return fail(`metrics.${i}.key: missing value for required parameter 'key'`);
    const value = doubleOf(m.value);
    if (value === undefined)
      return fail(`metrics.${i}.value: expected a number, got ${JSON.stringify(m.value)}`);
    const timestamp = int64Of(m.timestamp);
    const step = int64Of(m.step);
    if (Number.isNaN(timestamp) || Number.isNaN(step))
      return fail(`metrics.${i}: timestamp and step must be integers`);
    metrics[i] = { key: m.key, value, timestamp, step };
  }
  const kvs = (items: unknown[], name: string) => {
    const out: { key: string; value: string }[] = [];
    for (const [i, x] of items.entries()) {
      const e = x as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || e.key === '')
        return `${name}.${i}.key: missing value for required parameter 'key'`;
      if (typeof e.value !== 'string' && typeof e.value !== 'number')
        return `${name}.${i}.value: expected a string`;
      out.push({ key: e.key, value: String(e.value) });
    }
    return out;
  };
  const params = kvs(ps, 'params');
  if (typeof params === 'string') return fail(params);
  const tags = kvs(ts, 'tags');
  if (typeof tags === 'string') return fail(tags);
  return { success: true, data: { run_id: runId, metrics, params, tags } };
}

export const mlflowRoutes: Route[] = [
  // ---- experiments ----
  route({
    method: 'POST',
    path: `${API}/experiments/create`,
    write: true,
    summary: 'Create an experiment; RESOURCE_ALREADY_EXISTS when the name is taken',
    input: z.object({ name: nonEmpty('name'), artifact_location: str.optional(), tags: keyValues }),
    handler: async (i, { store }) => {
      const e = await alreadyExists(() => store.createExperiment(i.name));
      return { experiment_id: e.id };
    },
  }),
  route({
    method: 'GET',
    path: `${API}/experiments/get`,
    write: false,
    summary: 'An experiment by id',
    input: z.object({ experiment_id: nonEmpty('experiment_id') }),
    handler: async (i, { store }) => ({
      experiment: experimentJson(await experimentById(store, i.experiment_id)),
    }),
  }),
  route({
    method: 'GET',
    path: `${API}/experiments/get-by-name`,
    write: false,
    summary: 'An experiment by name',
    input: z.object({ experiment_name: nonEmpty('experiment_name') }),
    handler: async (i, { store }) => ({
      experiment: experimentJson(await store.getExperimentByName(i.experiment_name)),
    }),
  }),
  route({
    method: 'POST',
    path: `${API}/experiments/search`,
    write: false,
    summary:
      "Experiments matching a filter on name or creation_time (e.g. name LIKE 'churn%'), ordered and paged",
    input: z.object({
      filter: str.optional(),
      max_results: maxResults(50_000),
      order_by: stringList.optional(),
      page_token: str.optional(),
      view_type: z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']).optional(),
    }),
    handler: async (i, { store }) => {
      const keys = {
        name: (e: ReturnType<typeof experimentJson>) => e.name,
        experiment_id: (e: ReturnType<typeof experimentJson>) => e.experiment_id,
        creation_time: (e: ReturnType<typeof experimentJson>) => e.creation_time,
        last_update_time: (e: ReturnType<typeof experimentJson>) => e.last_update_time,
      };
      const keep = entityFilter(i.filter, keys);
      const all =
        i.view_type === 'DELETED_ONLY'
          ? []
          : (await store.listExperiments()).map(experimentJson).filter(keep);
      all.sort(sorter(i.order_by, keys, ['creation_time DESC', 'experiment_id ASC']));
      const p = page(all, i.max_results ?? 1000, i.page_token);
      return { experiments: p.items, ...(p.next ? { next_page_token: p.next } : {}) };
    },
  }),

  // ---- runs ----
  route({
    method: 'POST',
    path: `${API}/runs/create`,
    write: true,
    summary:
      'Create a RUNNING run in an experiment (id "0" or none = the "Default" experiment, as in MLflow)',
    input: z.object({
      experiment_id: str.optional(),
      user_id: str.optional(),
      run_name: str.optional(),
      start_time: int64.optional(),
      tags: keyValues,
    }),
    handler: async (i, { store }) => {
      const exp = await experimentById(store, i.experiment_id || DEFAULT_EXPERIMENT_ID);
      const tags = Object.fromEntries(i.tags.map((t) => [t.key, t.value]));
      if (i.user_id) tags['mlflow.user'] ??= i.user_id;
      const name = i.run_name || tags[RUN_NAME_TAG] || undefined;
      if (name !== undefined) tags[RUN_NAME_TAG] ??= name;
      const run = await store.createRun({
        experiment: exp.name,
        name,
        tags,
        startTime: i.start_time === undefined ? undefined : new Date(i.start_time).toISOString(),
      });
      return { run: runJson(await store.getRun(run.id)) };
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/update`,
    write: true,
    summary: "Set a run's status, end time or name",
    input: withRun({
      status: z.enum(['RUNNING', 'FINISHED', 'FAILED', 'KILLED']).optional(),
      end_time: int64.optional(),
      run_name: str.optional(),
    }),
    handler: async (i, { store }) => {
      const info = await store.updateRun(i.run_id, {
        status: i.status,
        endTime: i.end_time === undefined ? undefined : new Date(i.end_time).toISOString(),
        name: i.run_name,
      });
      if (i.run_name !== undefined) await store.setTags(i.run_id, { [RUN_NAME_TAG]: i.run_name });
      return { run_info: runInfoJson(info, (await store.getRun(i.run_id)).tags) };
    },
  }),
  route({
    method: 'GET',
    path: `${API}/runs/get`,
    write: false,
    summary: 'A run with its params, latest metrics, tags and dataset inputs',
    input: withRun({}),
    handler: async (i, { store }) => ({ run: runJson(await store.getRun(i.run_id)) }),
  }),
  route({
    method: 'POST',
    path: `${API}/runs/delete`,
    write: true,
    summary: 'Mark a run deleted (searches skip it unless run_view_type says otherwise)',
    input: withRun({}),
    handler: async (i, { store }) => {
      await store.deleteRun(i.run_id);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/restore`,
    write: true,
    summary: 'Restore a deleted run',
    input: withRun({}),
    handler: async (i, { store }) => {
      await store.restoreRun(i.run_id);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/search`,
    write: false,
    summary:
      "Runs matching a filter in MLflow's syntax (metrics.auc > 0.8 and params.model = 'gbdt'), ordered and paged",
    input: z.object({
      experiment_ids: stringList.default([]),
      filter: str.optional(),
      run_view_type: z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']).optional(),
      max_results: maxResults(50_000),
      order_by: stringList.optional(),
      page_token: str.optional(),
    }),
    handler: async (i, { store }) => {
      const p = await store.searchRuns({
        experimentIds: i.experiment_ids,
        filter: i.filter,
        runViewType: i.run_view_type,
        maxResults: i.max_results,
        orderBy: i.order_by,
        pageToken: i.page_token,
      });
      return { runs: p.runs.map(runJson), ...(p.nextPageToken ? { next_page_token: p.nextPageToken } : {}) };
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/log-metric`,
    write: true,
    summary: 'Log one metric point (value, timestamp in ms, step)',
    input: withRun({
      key: nonEmpty('key'),
      value: double,
      timestamp: int64.optional(),
      step: int64.optional(),
    }),
    handler: async (i, { store }) => {
      await store.logMetricBatch(i.run_id, [
        {
          key: i.key,
          value: i.value,
          step: i.step ?? 0,
          timestamp: i.timestamp,
        },
      ]);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/log-parameter`,
    write: true,
    summary: 'Log a param; changing a logged value is INVALID_PARAMETER_VALUE',
    input: withRun({
      key: nonEmpty('key'),
      value: z.union([str, z.number(), z.boolean()]).transform(String),
    }),
    handler: async (i, { store }) => {
      await store.logParams(i.run_id, { [i.key]: i.value });
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/set-tag`,
    write: true,
    summary: 'Set a tag (mlflow.runName also renames the run)',
    input: withRun({
      key: nonEmpty('key'),
      value: z.union([str, z.number(), z.boolean()]).transform(String),
    }),
    handler: async (i, { store }) => {
      await store.setTags(i.run_id, { [i.key]: i.value });
      if (i.key === RUN_NAME_TAG) await store.updateRun(i.run_id, { name: i.value });
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/log-batch`,
    write: true,
    summary: 'Log metrics, params and tags of one run in one transaction: all or none',
    input: withRun({
      metrics: z
        .array(
          z.object({
            key: nonEmpty('key'),
            value: double,
            timestamp: int64.optional(),
            step: int64.optional(),
          }),
        )
        .default([]),
      params: z
        .array(z.object({ key: nonEmpty('key'), value: z.union([str, z.number()]).transform(String) }))
        .default([]),
      tags: z
        .array(z.object({ key: nonEmpty('key'), value: z.union([str, z.number()]).transform(String) }))
        .default([]),
    }),
    parse: parseLogBatch,
    handler: async (i, { store }) => {
      const params: Record<string, string> = {};
      for (const p of i.params) {
        if (params[p.key] !== undefined && params[p.key] !== p.value)
          throw new ApiError(
            'INVALID_PARAMETER_VALUE',
            `param "${p.key}" is given twice with different values`,
          );
        params[p.key] = p.value;
      }
      const tags = Object.fromEntries(i.tags.map((t) => [t.key, t.value]));
      await store.logBatch(i.run_id, {
        metrics: i.metrics, // MetricIn is a MetricInput: timestamps in ms, step 0 when absent
        params,
        tags,
      });
      if (tags[RUN_NAME_TAG] !== undefined) await store.updateRun(i.run_id, { name: tags[RUN_NAME_TAG] });
      return {};
    },
  }),
  route({
    method: 'POST',
    path: `${API}/runs/log-inputs`,
    write: true,
    summary:
      'Record the datasets a run used (name, digest, source; context from the mlflow.data.context tag)',
    input: withRun({
      datasets: z
        .array(
          z.object({
            tags: keyValues,
            dataset: z.object({
              name: nonEmpty('name'),
              digest: nonEmpty('digest'),
              source_type: str.optional(),
              source: str.default(''),
              schema: str.optional(),
              profile: str.optional(),
            }),
          }),
        )
        .default([]),
    }),
    handler: async (i, { store }) => {
      for (const d of i.datasets) {
        let rows = 0;
        try {
          rows = Number(JSON.parse(d.dataset.profile ?? '{}').num_rows ?? 0) || 0;
        } catch {
          rows = 0;
        }
        const context = d.tags.find((t) => t.key === 'mlflow.data.context')?.value ?? 'raw';
        await store.logDatasetInput(i.run_id, {
          name: d.dataset.name,
          sha256: d.dataset.digest,
          source: d.dataset.source,
          rows,
          context,
        });
      }
      return {};
    },
  }),
  route({
    method: 'GET',
    path: `${API}/metrics/get-history`,
    write: false,
    summary: 'Every point of one metric of a run, in the order logged (paged when max_results is given)',
    input: withRun({
      metric_key: nonEmpty('metric_key'),
      max_results: maxResults(10_000_000),
      page_token: str.optional(),
    }),
    handler: async (i, { store }) => {
      if (hasJsonHistory(store)) {
        // the database writes the points' JSON (100k points: one string instead of 100k objects)
        const offset = i.page_token ? pageOffset(i.page_token) : 0;
        const h = await store.metricHistoryJson(i.run_id, i.metric_key, { offset, limit: i.max_results });
        const next = h.more ? `,"next_page_token":${JSON.stringify(offsetToken(offset + h.count))}` : '';
        return new JsonText(Buffer.concat([Buffer.from('{"metrics":'), h.json, Buffer.from(`${next}}`)]));
      }
      const points = await store.metricHistory(i.run_id, i.metric_key);
      const p = page(points, i.max_results ?? Math.max(points.length, 1), i.page_token);
      return metricHistoryText(p.items, p.next);
    },
  }),

  // ---- registry ----
  route({
    method: 'POST',
    path: `${API}/registered-models/create`,
    write: true,
    summary: 'Create a registered model; RESOURCE_ALREADY_EXISTS when it exists',
    input: z.object({ name: nonEmpty('name'), description: str.optional(), tags: keyValues }),
    handler: async (i, { store, actor }) => {
      const m = await alreadyExists(() =>
        store.createRegisteredModel(i.name, { description: i.description, actor }),
      );
      return { registered_model: await modelJson(store, m) };
    },
  }),
  route({
    method: 'GET',
    path: `${API}/registered-models/get`,
    write: false,
    summary: 'A registered model with its latest version per stage and its aliases',
    input: z.object({ name: nonEmpty('name') }),
    handler: async (i, { store }) => ({
      registered_model: await modelJson(store, await store.getRegisteredModel(i.name)),
    }),
  }),
  route({
    method: 'GET',
    path: `${API}/registered-models/search`,
    write: false,
    summary: "Registered models matching a filter on name (name LIKE 'churn%'), ordered and paged",
    input: z.object({
      filter: str.optional(),
      max_results: maxResults(1000),
      order_by: stringList.optional(),
      page_token: str.optional(),
    }),
    handler: async (i, { store }) => {
      type M = Awaited<ReturnType<typeof modelJson>>;
      const keys = {
        name: (m: M) => m.name,
        creation_timestamp: (m: M) => m.creation_timestamp,
        last_updated_timestamp: (m: M) => m.last_updated_timestamp,
      };
      const keep = entityFilter(i.filter, { name: keys.name });
      const all: M[] = [];
      for (const m of await store.listRegisteredModels()) all.push(await modelJson(store, m));
      const found = all.filter(keep).sort(sorter(i.order_by, keys, ['name ASC']));
      const p = page(found, i.max_results ?? 100, i.page_token);
      return { registered_models: p.items, ...(p.next ? { next_page_token: p.next } : {}) };
    },
  }),
  route({
    method: 'POST',
    path: `${API}/model-versions/create`,
    write: true,
    summary:
      "Add the next version of a registered model; source runs:/RUN/path links the run's artifact of that name",
    input: z.object({
      name: nonEmpty('name'),
      source: nonEmpty('source'),
      run_id: str.optional(),
      description: str.optional(),
      run_link: str.optional(),
      tags: keyValues,
    }),
    handler: async (i, { store, actor }) => {
      await store.getRegisteredModel(i.name);
      const runId = i.run_id || null;
      if (runId) await store.getRun(runId);
      const found = await sourceArtifact(store, i.source, runId ?? undefined);
      const artifact = found ?? { name: i.source, sha256: '', size: 0, uri: i.source };
      const v = await store.createModelVersion({
        name: i.name,
        runId,
        artifact,
        description: i.description,
        actor,
      });
      return { model_version: modelVersionJson(v) };
    },
  }),
  route({
    method: 'GET',
    path: `${API}/model-versions/get`,
    write: false,
    summary: 'One version of a registered model',
    input: z.object({ name: nonEmpty('name'), version }),
    handler: async (i, { store }) => ({
      model_version: modelVersionJson(await store.getModelVersion(i.name, i.version)),
    }),
  }),
  route({
    method: 'GET',
    path: `${API}/model-versions/search`,
    write: false,
    summary:
      "Model versions matching a filter on name, version or run_id (name = 'churn'), ordered and paged",
    input: z.object({
      filter: str.optional(),
      max_results: maxResults(200_000),
      order_by: stringList.optional(),
      page_token: str.optional(),
    }),
    handler: async (i, { store }) => {
      const keys = {
        name: (v: ModelVersion) => v.name,
        version: (v: ModelVersion) => v.version,
        run_id: (v: ModelVersion) => v.runId,
        current_stage: (v: ModelVersion) => v.stage,
        creation_timestamp: (v: ModelVersion) => Date.parse(v.createdAt),
      };
      const keep = entityFilter(i.filter, keys);
      const found = (await allVersions(store))
        .filter(keep)
        .sort(sorter(i.order_by, keys, ['name ASC', 'version DESC']));
      const p = page(found, i.max_results ?? 10_000, i.page_token);
      return {
        model_versions: p.items.map(modelVersionJson),
        ...(p.next ? { next_page_token: p.next } : {}),
      };
    },
  }),
  route({
    method: 'POST',
    path: `${API}/registered-models/alias`,
    write: true,
    summary: 'Point an alias (production, staging, any name) at a version; recorded in the audit log',
    input: z.object({ name: nonEmpty('name'), alias: nonEmpty('alias'), version }),
    handler: async (i, { store, actor }) => {
      await store.setAlias(i.name, i.alias, i.version, { actor });
      return {};
    },
  }),
  route({
    method: 'DELETE',
    path: `${API}/registered-models/alias`,
    write: true,
    summary: 'Delete an alias; recorded in the audit log',
    input: z.object({ name: nonEmpty('name'), alias: nonEmpty('alias') }),
    handler: async (i, { store, actor }) => {
      await store.deleteAlias(i.name, i.alias, { actor });
      return {};
    },
  }),
  route({
    method: 'GET',
    path: `${API}/registered-models/alias`,
    write: false,
    summary: 'The version an alias points at',
    input: z.object({ name: nonEmpty('name'), alias: nonEmpty('alias') }),
    handler: async (i, { store }) => {
      const v = await store.getModelVersionByAlias(i.name, i.alias);
      if (!v)
        throw new ApiError('RESOURCE_DOES_NOT_EXIST', `registered model ${i.name} has no alias "${i.alias}"`);
      return { model_version: modelVersionJson(v) };
    },
  }),
  route({
    method: 'POST',
    path: `${API}/model-versions/transition-stage`,
    write: true,
    summary:
      'Move a version to None, Staging, Production or Archived (optionally archiving the others there)',
    input: z.object({
      name: nonEmpty('name'),
      version,
      stage: str.transform((s, ctx) => {
        const stage = STAGES[s.toLowerCase()];
        if (!stage) {
          ctx.addIssue({
            code: 'custom',
            message: `stage must be None, Staging, Production or Archived, got "${s}"`,
          });
          return z.NEVER;
        }
        return stage;
      }),
      archive_existing_versions: z
        .union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')])
        .optional(),
    }),
    handler: async (i, { store, actor }) => ({
      model_version: modelVersionJson(
        await store.transitionModelVersionStage(i.name, i.version, i.stage, {
          archiveExisting: i.archive_existing_versions ?? false,
          actor,
        }),
      ),
    }),
  }),
];

/** zod issues as one MLflow-style message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
