import { describe, expect, it } from 'vitest';
import { KeelError } from '../core/errors.js';
import { parseFilter, parseOrderBy } from './search-filter.js';
import { compileRunSearch } from './search-sql.js';
import { likeToGlob, postgresDialect, sqliteDialect } from './sql.js';

/** The error a bad filter raises: its caret column and message. */
function failure(filter: string): { position: number; message: string } {
  try {
    parseFilter(filter);
  } catch (e) {
    expect(e).toBeInstanceOf(KeelError);
    const err = e as KeelError;
    expect(err.code).toBe('KEEL_E_USAGE');
    const lines = err.message.split('\n');
    const position = (err.details as { position: number }).position;
    // the last line is a caret under the offending character of the echoed filter
    expect(lines[1]).toBe(`  ${filter}`);
    expect(lines[2]).toBe(`  ${' '.repeat(position)}^`);
    return { position, message: lines[0] };
  }
  throw new Error(`"${filter}" parsed`);
}

describe('parseFilter', () => {
  it('parses comparisons on metrics, params, tags and attributes joined by AND', () => {
    expect(parseFilter("metrics.auc > 0.8 and params.model = 'gbdt' AND tags.team = 'risk'")).toEqual([
      { entity: 'metric', key: 'auc', op: '>', value: 0.8, position: 0 },
      { entity: 'param', key: 'model', op: '=', value: 'gbdt', position: 22 },
      { entity: 'tag', key: 'team', op: '=', value: 'risk', position: 48 },
    ]);
    expect(parseFilter("attributes.status = 'FINISHED'")).toEqual([
      { entity: 'attribute', key: 'status', op: '=', value: 'FINISHED', position: 0 },
    ]);
  });

  it('reads every comparator, quoted keys, negative and exponent numbers, and IN lists', () => {
    const ops = parseFilter(
      "metrics.a != 1 and metrics.b <= -2.5 and metrics.c >= 1e-3 and metrics.d < .5 and metrics.e<>3 and params.p LIKE 'g%' and tags.t ILIKE '%X%'",
    ).map((c) => [c.op, c.value]);
    expect(ops).toEqual([
      ['!=', 1],
      ['<=', -2.5],
      ['>=', 0.001],
      ['<', 0.5],
      ['!=', 3],
      ['LIKE', 'g%'],
      ['ILIKE', '%X%'],
    ]);
    expect(
      parseFilter('metrics.`val loss` < 0.3 and tags."user-name" = "tomas" and metrics.val.acc>0.1'),
    ).toEqual([
      { entity: 'metric', key: 'val loss', op: '<', value: 0.3, position: 0 },
      { entity: 'tag', key: 'user-name', op: '=', value: 'tomas', position: 29 },
      { entity: 'metric', key: 'val.acc', op: '>', value: 0.1, position: 60 },
    ]);
    expect(parseFilter("attributes.run_id IN ('a', 'b') and params.x NOT IN ('it''s')")).toEqual([
      { entity: 'attribute', key: 'run_id', op: 'IN', value: ['a', 'b'], position: 0 },
      { entity: 'param', key: 'x', op: 'NOT IN', value: ["it's"], position: 36 },
    ]);
    expect(parseFilter('  ')).toEqual([]);
    expect(parseFilter(undefined)).toEqual([]);
    expect(parseFilter("status = 'RUNNING'")[0]).toMatchObject({ entity: 'attribute', key: 'status' });
  });

  it('points at the character where a bad filter goes wrong', () => {
    expect(failure('metrics.auc >> 0.8')).toMatchObject({ position: 13 });
    expect(failure("metrics.auc > 0.8 or params.a = 'x'")).toEqual({
      position: 18,
      message: 'invalid filter at position 19: OR is not supported: join conditions with AND',
    });
    expect(failure("params.model = 'gbdt")).toMatchObject({
      position: 15,
      message: expect.stringMatching(/unterminated string/),
    });
    expect(failure('metrics.auc > ')).toMatchObject({
      position: 14,
      message: expect.stringMatching(/end of the filter/),
    });
    expect(failure("metric.auc > 'high'")).toMatchObject({
      position: 13,
      message: expect.stringMatching(/with a number/),
    });
    expect(failure('params.depth = 6')).toMatchObject({
      position: 15,
      message: expect.stringMatching(/quote the value/),
    });
    expect(failure("foo.bar = 'x'")).toMatchObject({
      position: 0,
      message: expect.stringMatching(/unknown key type "foo"/),
    });
    expect(failure("attributes.color = 'x'")).toMatchObject({
      position: 0,
      message: expect.stringMatching(/unknown attribute/),
    });
    expect(failure("metrics.auc > 0.8 params.a = 'x'")).toMatchObject({
      position: 18,
      message: expect.stringMatching(/expected AND/),
    });
    expect(failure("attributes.status = 'DONE'")).toMatchObject({ position: 20 });
    expect(failure("params.a IN ('x' 'y')")).toMatchObject({ position: 17 });
    expect(failure('tags.t = ?')).toMatchObject({
      position: 9,
      message: expect.stringMatching(/unexpected character "\?"/),
    });
    expect(failure("params.a < 'x'")).toMatchObject({ position: 11 });
  });
});

describe('parseOrderBy', () => {
  it('reads a key with an optional direction', () => {
    expect(parseOrderBy('metrics.auc DESC')).toEqual({ entity: 'metric', key: 'auc', descending: true });
    expect(parseOrderBy('attributes.start_time')).toEqual({
      entity: 'attribute',
      key: 'start_time',
      descending: false,
    });
    expect(parseOrderBy('params.`learning rate` asc')).toEqual({
      entity: 'param',
      key: 'learning rate',
      descending: false,
    });
    expect(parseOrderBy('created')).toEqual({ entity: 'attribute', key: 'start_time', descending: false });
    expect(() => parseOrderBy('metrics.auc DOWN')).toThrow(/position 13/);
    expect(() => parseOrderBy('attributes.colour')).toThrow(/unknown attribute/);
  });
});

describe('compileRunSearch', () => {
  it('binds every value as a parameter and never splices it into the SQL', () => {
    const evil = "x'; DROP TABLE runs; --";
    const q = compileRunSearch(
      {
        experimentIds: ['e1'],
        filter: `params.model = '${evil.replace(/'/g, "''")}' and metrics.auc > 0.5`,
        orderBy: ['metrics.auc DESC'],
      },
      sqliteDialect,
    );
    expect(q.sql).not.toContain('DROP');
    // the param's join comes first in the text, so its key is bound first
    expect(q.params).toEqual(['model', 'e1', evil, 'auc', 0.5, 'auc', 1001, 0]);
    expect(q.sql.match(/\?/g)?.length).toBe(q.params.length);
    expect(q.sql).toMatch(
      /^SELECT r\.id FROM runs r LEFT JOIN params AS j0 ON j0\.run_id = r\.id AND j0\.key = \? WHERE/,
    );
    expect(q.sql).toMatch(
      /ORDER BY \(SELECT .*\) DESC NULLS LAST, r\.start_time DESC, r\.id ASC LIMIT \? OFFSET \?$/,
    );
    // PostgreSQL joins a metric's latest value once (LATERAL), for the filter and the order alike
    const p = compileRunSearch(
      {
        filter: `metrics.auc > 0.5 and tags.team = 'risk' and metrics.auc < 0.9`,
        orderBy: ['metrics.auc DESC', 'tags.team'],
      },
      postgresDialect,
    );
    expect(p.params).toEqual(['auc', 'team', 0.5, 'risk', 0.9, 1001, 0]);
    expect(p.sql.match(/LATERAL/g)).toHaveLength(1);
    expect(p.sql.match(/\?/g)?.length).toBe(p.params.length);
    expect(p.sql).toContain('ORDER BY j0.value DESC NULLS LAST, j1.value COLLATE "C" ASC NULLS LAST');
  });

  it('keeps LIKE case-sensitive on SQLite (as GLOB) and without an escape character on PostgreSQL', () => {
    expect(likeToGlob('a%b_c*d?[e')).toBe('a*b?c[*]d[?][[]e');
    expect(compileRunSearch({ filter: "tags.t LIKE 'A%'" }, sqliteDialect).sql).toContain('GLOB ?');
    expect(compileRunSearch({ filter: "tags.t ILIKE 'A%'" }, sqliteDialect).sql).toContain('LOWER(?)');
    expect(compileRunSearch({ filter: "tags.t ILIKE 'A%'" }, postgresDialect).sql).toContain(
      "ILIKE ? ESCAPE ''",
    );
  });

  it('refuses bad limits, views and page tokens', () => {
    expect(() => compileRunSearch({ maxResults: 0 }, sqliteDialect)).toThrow(/max_results/);
    expect(() => compileRunSearch({ maxResults: 50_001 }, sqliteDialect)).toThrow(/max_results/);
    expect(() => compileRunSearch({ runViewType: 'SOME' as 'ALL' }, sqliteDialect)).toThrow(/run_view_type/);
    expect(() => compileRunSearch({ pageToken: 'garbage' }, sqliteDialect)).toThrow(/invalid page token/);
  });
});
