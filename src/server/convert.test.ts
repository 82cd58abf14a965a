import { describe, expect, it } from 'vitest';
import { doubleJson, isoMs, metricHistoryText, metricJson } from './convert.js';

describe('MLflow JSON for metrics', () => {
  it('writes any store’s history as get-history does: ms timestamps, ±Infinity as strings, a page token', () => {
    const points = [
      { key: 'loss', value: 0.5, step: 0, timestamp: '2026-01-02T03:04:05.678Z' },
      { key: 'loss', value: Number.POSITIVE_INFINITY, step: 1, timestamp: '2026-01-02T03:04:05.679Z' },
      { key: 'loss', value: Number.NEGATIVE_INFINITY, step: 2, timestamp: '2026-01-02T03:04:05+01:00' },
    ];
    const t = Date.parse('2026-01-02T03:04:05.678Z');
    expect(JSON.parse(metricHistoryText(structuredClone(points), 'tok').text as string)).toEqual({
      metrics: [
        { key: 'loss', value: 0.5, step: 0, timestamp: t },
        { key: 'loss', value: 'Infinity', step: 1, timestamp: t + 1 },
        { key: 'loss', value: '-Infinity', step: 2, timestamp: Date.parse('2026-01-02T02:04:05Z') },
      ],
      next_page_token: 'tok',
    });
    expect(JSON.parse(metricHistoryText([]).text as string)).toEqual({ metrics: [] });
    expect(metricJson(points[1])).toEqual({ key: 'loss', value: 'Infinity', timestamp: t + 1, step: 1 });
    expect([doubleJson(1.5), doubleJson(Number.NaN)]).toEqual([1.5, 'NaN']);
    expect(isoMs('1999-12-31T23:59:59.999Z')).toBe(Date.parse('1999-12-31T23:59:59.999Z'));
  });
});
