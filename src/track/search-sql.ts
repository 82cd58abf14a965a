/**
 * searchRuns compiled to SQL: the parsed filter (search-filter.ts) and order-by keys become a
 * WHERE and an ORDER BY over `runs r` whose values are all bound parameters (`?`), never spliced
 * into the text. A metric compares its latest logged value (the last point, as getRun reports it);
 * a param or tag that a run does not have never matches, whatever the comparator (MLflow's rule).
 */
import { createHash } from 'node:crypto';
import { KeelError } from '../core/errors.js';
import { attributeName, type Comparison, type OrderKey, parseFilter, parseOrderBy } from './search-filter.js';
import type { SqlDialect } from './sql.js';
import type { SearchRunsOptions } from './types.js';

export const MAX_RESULTS = 50_000;
export const DEFAULT_MAX_RESULTS = 1000;

export interface CompiledSearch {
  /** Selects `r.id` (or the columns asked for) of one page plus one extra row (to know whether another page follows). */
  sql: string;
  params: unknown[];
  offset: number;
  limit: number;
  fingerprint: string;
}

const ATTR_COLUMNS: Record<string, string> = {
  run_id: 'r.id',
  run_name: 'r.name',
  status: 'r.status',
  lifecycle_stage: 'r.lifecycle_stage',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
};

const latestMetric =
  'SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.key = ? ORDER BY m.id DESC LIMIT 1';

/**
 * The joins a search needs, one per distinct key: a param or tag is a LEFT JOIN on its primary
 * key (a run without it gets NULL, which no comparison matches, as in MLflow), so the planner can
 * hash it instead of probing once per run; a metric's latest value is a LEFT JOIN LATERAL where
 * the dialect has one (PostgreSQL), so a key used in the filter and the order is looked up once
 * per run, and a correlated subquery otherwise (SQLite, where that is as fast).
 */
class Joins {
  readonly sql: string[] = [];
  readonly params: unknown[] = [];
  private readonly aliases = new Map<string, string>();

  constructor(private readonly dialect: SqlDialect) {}

  /** The SQL expression for a key, and the parameters it binds where it stands. */
  expr(entity: Comparison['entity'], key: string): { expr: string; params: unknown[] } {
    if (entity === 'attribute') return { expr: ATTR_COLUMNS[attributeName(key)], params: [] };
    if (entity === 'metric' && !this.dialect.lateral) return { expr: `(${latestMetric})`, params: [key] };
    const id = `${entity}\u0000${key}`;
    let alias = this.aliases.get(id);
    if (!alias) {
      alias = `j${this.aliases.size}`;
      this.aliases.set(id, alias);
      if (entity === 'metric') this.sql.push(`LEFT JOIN LATERAL (${latestMetric}) AS ${alias} ON TRUE`);
      else
        this.sql.push(
          `LEFT JOIN ${entity === 'param' ? 'params' : 'tags'} AS ${alias} ON ${alias}.run_id = r.id AND ${alias}.key = ?`,
        );
      this.params.push(key);
    }
    return { expr: `${alias}.value`, params: [] };
  }
}

/** Milliseconds since the epoch as the ISO text the store keeps. */
function isoFromMs(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime()))
    throw new KeelError('KEEL_E_USAGE', `${ms} is not a time in milliseconds since the epoch`, {
      path: ['filter'],
    });
  return d.toISOString();
}

function condition(c: Comparison, dialect: SqlDialect, joins: Joins): { sql: string; params: unknown[] } {
  const { expr, params } = joins.expr(c.entity, c.key);
  const attr = c.entity === 'attribute' ? attributeName(c.key) : '';
  const bind = (v: string | number) =>
    attr === 'start_time' || attr === 'end_time' ? isoFromMs(v as number) : v;
  switch (c.op) {
    case 'LIKE':
    case 'ILIKE': {
      const l = dialect.like(expr, c.value as string, c.op === 'ILIKE');
      return { sql: l.sql, params: [...params, l.param] };
    }
    case 'IN':
    case 'NOT IN': {
      const list = c.value as string[];
      return {
        sql: `${expr} ${c.op} (${list.map(() => '?').join(', ')})`,
        params: [...params, ...list],
      };
    }
    default:
      return { sql: `${expr} ${c.op} ?`, params: [...params, bind(c.value as string | number)] };
  }
}

function order(k: OrderKey, dialect: SqlDialect, joins: Joins): { sql: string; params: unknown[] } {
  const { expr, params } = joins.expr(k.entity, k.key);
  const text =
    k.entity === 'param' ||
    k.entity === 'tag' ||
    ['run_id', 'run_name', 'status', 'lifecycle_stage'].includes(k.key);
  return {
    sql: `${text && k.entity !== 'metric' ? dialect.orderText(expr) : expr} ${k.descending ? 'DESC' : 'ASC'} NULLS LAST`,
    params,
  };
}

interface PageToken {
  offset: number;
  fp: string;
}

export function encodePageToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ offset, fp: fingerprint } satisfies PageToken)).toString('base64url');
}

function decodePageToken(token: string, fingerprint: string): number {
  let t: Partial<PageToken>;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    t = {};
  }
  if (typeof t !== 'object' || t === null || !Number.isSafeInteger(t.offset) || (t.offset as number) < 0)
    throw new KeelError('KEEL_E_USAGE', `invalid page token "${token.slice(0, 40)}"`, {
      path: ['page_token'],
    });
  if (t.fp !== fingerprint)
    throw new KeelError(
      'KEEL_E_USAGE',
      'the page token belongs to a different search (filter, order, experiments or view changed)',
      { path: ['page_token'] },
    );
  return t.offset as number;
}

/** Parse and compile a search; throws KEEL_E_USAGE (with a caret) on a bad filter or order. */
export function compileRunSearch(
  opts: SearchRunsOptions,
  dialect: SqlDialect,
  /** What to select (default `r.id`) and a join it needs, e.g. the run's experiment. */
  select: { columns: string; join: string } = { columns: 'r.id', join: '' },
): CompiledSearch {
  const limit = opts.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RESULTS)
    throw new KeelError(
      'KEEL_E_USAGE',
      `max_results must be an integer from 1 to ${MAX_RESULTS}, got ${limit}`,
      {
        path: ['max_results'],
      },
    );
  const view = opts.runViewType ?? 'ACTIVE_ONLY';
  if (!['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'].includes(view))
    throw new KeelError(
      'KEEL_E_USAGE',
      `run_view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL, got "${view}"`,
      {
        path: ['run_view_type'],
      },
    );
  const filter = parseFilter(opts.filter);
  const keys = (opts.orderBy ?? []).map(parseOrderBy);
  const experimentIds = opts.experimentIds ?? [];
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([experimentIds, opts.filter ?? '', opts.orderBy ?? [], view]))
    .digest('hex')
    .slice(0, 16);
  const offset = opts.pageToken ? decodePageToken(opts.pageToken, fingerprint) : 0;

  const joins = new Joins(dialect);
  const where: string[] = [];
  const params: unknown[] = [];
  if (experimentIds.length > 0) {
    where.push(`r.experiment_id IN (${experimentIds.map(() => '?').join(', ')})`);
    params.push(...experimentIds);
  }
  if (view !== 'ALL')
    where.push(view === 'ACTIVE_ONLY' ? "r.lifecycle_stage = 'active'" : "r.lifecycle_stage = 'deleted'");
  for (const c of filter) {
    const w = condition(c, dialect, joins);
    where.push(w.sql);
    params.push(...w.params);
  }
  const orders: string[] = [];
  for (const k of keys) {
    const o = order(k, dialect, joins);
    orders.push(o.sql);
    params.push(...o.params);
  }
  if (!keys.some((k) => k.entity === 'attribute' && k.key === 'start_time')) orders.push('r.start_time DESC');
  orders.push('r.id ASC');
  params.push(limit + 1, offset);
  // the joins' ? come first in the text, so their parameters go first
  const from = ['runs r', select.join, ...joins.sql].filter((x) => x !== '').join(' ');
  return {
    sql: `SELECT ${select.columns} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orders.join(', ')} LIMIT ? OFFSET ?`,
    params: [...joins.params, ...params],
    offset,
    limit,
    fingerprint,
  };
}
