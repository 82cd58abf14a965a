import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDatetime } from './datetime.js';
import { inferSchemaFromRows, parseSchema, profileFrame, readTable, recordsToFrame } from './index.js';

describe('the datetime type', () => {
  it('parses ISO 8601 dates and date-times strictly, as UTC without an offset', () => {
    expect(parseDatetime('2026-12-01')).toBe(Date.UTC(2026, 11, 1));
    expect(parseDatetime('2026-12-01T18:30')).toBe(Date.UTC(2026, 11, 1, 18, 30));
    expect(parseDatetime('2026-12-01 18:30:05.25Z')).toBe(Date.UTC(2026, 11, 1, 18, 30, 5, 250));
    expect(parseDatetime('2026-12-01T18:30:00+02:00')).toBe(Date.UTC(2026, 11, 1, 16, 30));
    expect(parseDatetime('2026-12-01T18:30:00-0130')).toBe(Date.UTC(2026, 11, 1, 20, 0));
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-12-01T24:00',
      '12/01/2026',
      '2026-12-1',
      'yesterday',
      '',
    ])
      expect(parseDatetime(bad), bad).toBeNaN();
  });

  it('types, bounds and quarantines a CSV column; infers it; profiles it as epoch milliseconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-datetime-'));
    const file = join(dir, 'events.csv');
    writeFileSync(
      file,
      'id,at\n1,2026-01-05\n2,2026-02-30\n3,2025-12-31T23:59:59Z\n4,\n5,2026-03-01 08:00\n',
    );
    const schema = parseSchema({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'at', type: 'datetime', nullable: true, min: '2026-01-01', max: '2026-12-31T23:59:59Z' },
      ],
    });
    expect(schema.columns[1].min).toBe(Date.UTC(2026, 0, 1));
    const { frame, report, quarantine } = await readTable(file, schema);
    expect(Array.from(frame.numeric('at'))).toEqual([
      Date.UTC(2026, 0, 5),
      Number.NaN,
      Date.UTC(2026, 2, 1, 8),
    ]);
    expect(report.violations.map((v) => [v.rule, v.column, v.rows, v.message])).toEqual([
      ['type', 'at', [3], '"at" must be an ISO 8601 date or date-time (2026-12-01, 2026-12-01T18:30:00Z)'],
      ['min', 'at', [4], '"at" must be >= 2026-01-01T00:00:00.000Z'],
    ]);
    expect(quarantine.reasons).toEqual(['at: type "2026-02-30"', 'at: min "2025-12-31T23:59:59Z"']);
    expect(profileFrame(frame).columns[1]).toMatchObject({ count: 2, missing: 1, min: Date.UTC(2026, 0, 5) });
    const inferred = (await readTable(file)).schema.columns[1];
    expect(inferred).toMatchObject({ name: 'at', type: 'category' }); // 2026-02-30 is not a date
    expect(
      inferSchemaFromRows(['at'], [['2026-01-05'], [''], ['2026-03-01T08:00Z']]).columns[0],
    ).toMatchObject({
      type: 'datetime',
      nullable: true,
    });
    expect(() => parseSchema({ columns: [{ name: 'at', type: 'datetime', min: 'soon' }] })).toThrow(
      /columns.0.min: .*"soon" is neither a number nor an ISO 8601 date/,
    );
  });

  it('serving records accept ISO texts or epoch milliseconds', () => {
    const specs = parseSchema({ columns: [{ name: 'at', type: 'datetime', max: '2030-01-01' }] }).columns;
    const ok = recordsToFrame([{ at: '2026-12-01T00:00:00Z' }, { at: 0 }], specs);
    expect(Array.from(ok.frame!.numeric('at'))).toEqual([Date.UTC(2026, 11, 1), 0]);
    const bad = recordsToFrame([{ at: 'tomorrow' }, { at: '2031-01-01' }], specs);
    expect(bad.errors.map((e) => e.rule)).toEqual(['type', 'max']);
  });
});
