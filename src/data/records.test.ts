import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnsToFrame, recordsToFrame } from './records.js';
import type { ColumnSpec } from './schema.js';

const specs: ColumnSpec[] = [
  { name: 'n', type: 'integer', min: 0, max: 10, nullable: false, role: 'feature' },
  { name: 'x', type: 'number', nullable: true, role: 'feature' },
  { name: 'b', type: 'boolean', nullable: false, role: 'feature' },
  { name: 'c', type: 'category', allowed: ['a', 'b'], nullable: false, role: 'feature' },
  { name: 'free', type: 'category', nullable: true, role: 'feature' },
  { name: 's', type: 'string', nullable: true, role: 'feature' },
];

describe('recordsToFrame', () => {
  it('types good records into a Frame', () => {
    const { frame, errors } = recordsToFrame(
      [
        { n: 1, x: 2.5, b: true, c: 'a', free: 'q', s: 'id1' },
        { n: '2', x: null, b: 'no', c: 'b', free: 7, s: 3, extra: 'ignored' },
      ],
      specs,
    );
    expect(errors).toEqual([]);
    expect(frame?.toRecords()).toEqual([
      { n: 1, x: 2.5, b: 1, c: 'a', free: 'q', s: 'id1' },
      { n: 2, x: null, b: 0, c: 'b', free: '7', s: '3' },
    ]);
  });

  it('collects every error with its record index, field and rule', () => {
    const { frame, errors } = recordsToFrame(
      [
        { n: 11, b: 'maybe', c: 'z', x: 'abc' },
        { n: -1, b: 1, c: ['a'] },
        'not an object',
        { n: 1.5, b: false, c: 'a', s: {} },
      ],
      specs,
      { rejectUnknownFields: false },
    );
    expect(frame).toBeNull();
    expect(errors.map((e) => `${e.index}:${e.field}:${e.rule}`)).toEqual([
      '0:n:max',
      '0:x:type',
      '0:b:type',
      '0:c:allowed',
      '1:n:min',
      '1:c:type',
      '2::record',
      '3:n:type',
      '3:s:type',
    ]);
    expect(errors[3].message).toBe('"c" must be one of: a, b');
  });

  it('reports required and null fields, unknown fields on request, and caps the error list', () => {
    const { errors } = recordsToFrame([{ n: null, c: 'a', zzz: 1 }], specs, { rejectUnknownFields: true });
    expect(errors.map((e) => `${e.field}:${e.rule}`)).toEqual([
      'zzz:unknown_field',
      'n:nullable',
      'b:required',
    ]);
    const many = recordsToFrame(
      Array.from({ length: 500 }, () => ({})),
      specs,
      { maxErrors: 25 },
    );
    expect(many.errors).toHaveLength(25);
  });
});

describe('columnsToFrame', () => {
  const value = fc.oneof(
    fc.constantFrom(
      null,
      undefined,
      true,
      false,
      0,
      1,
      2.5,
      -1,
      11,
      1.5,
      '2',
      ' 3 ',
      'abc',
      'a',
      'b',
      'z',
      'no',
    ),
    fc.constantFrom('yes', 'TRUE', 7, [], {}, Number.NaN, '1e3', ''),
  );
  const record = fc.record(
    Object.fromEntries(specs.map((s) => [s.name, value])) as Record<string, fc.Arbitrary<unknown>>,
    { requiredKeys: [] },
  );
  const byPlace = (e: { index: number; field: string }) => `${String(e.index).padStart(4, '0')}:${e.field}`;

  it('gives what recordsToFrame gives for the same rows: the frame, or the same errors', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), (records) => {
        const columns = Object.fromEntries(
          specs.map((s) => [s.name, records.map((r) => (r as Record<string, unknown>)[s.name])]),
        );
        const a = recordsToFrame(records, specs);
        const b = columnsToFrame(columns, specs);
        expect(b.frame?.toRecords() ?? null).toEqual(a.frame?.toRecords() ?? null);
        // column by column instead of record by record: the same errors in another order
        expect([...b.errors].sort((x, y) => byPlace(x).localeCompare(byPlace(y)))).toEqual(
          [...a.errors].sort((x, y) => byPlace(x).localeCompare(byPlace(y))),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('treats a missing column as missing in every row and rejects bad shapes', () => {
    const { frame, errors } = columnsToFrame({ n: [1, 2], b: [true, 0], c: ['a', 'b'] }, specs);
    expect(errors).toEqual([]);
    expect(frame?.toRecords()).toEqual([
      { n: 1, x: null, b: 1, c: 'a', free: null, s: null },
      { n: 2, x: null, b: 0, c: 'b', free: null, s: null },
    ]);
    const req = columnsToFrame({ n: [1, 2], c: ['a', 'b'] }, specs);
    expect(req.errors.map((e) => `${e.index}:${e.field}:${e.rule}`)).toEqual([
      '0:b:required',
      '1:b:required',
    ]);
    const lengths = columnsToFrame({ n: [1, 2], b: [true], c: ['a', 'b'] }, specs);
    expect(lengths.frame).toBeNull();
    expect(lengths.errors[0]).toMatchObject({ field: 'b', rule: 'record' });
    expect(lengths.errors[0].message).toBe('column "b" has 1 values, column "n" 2');
    const notArray = columnsToFrame({ n: 3 }, specs);
    expect(notArray.errors[0]).toMatchObject({ field: 'n', rule: 'type' });
    const unknown = columnsToFrame({ n: [1], b: [1], c: ['a'], zzz: [1] }, specs, {
      rejectUnknownFields: true,
    });
    expect(unknown.errors.map((e) => `${e.field}:${e.rule}`)).toEqual(['zzz:unknown_field']);
    expect(columnsToFrame({ n: [1], b: [1], c: ['a'], zzz: 'x' }, specs).errors).toEqual([]);
  });
});

describe('recordsToFrame with scratch', () => {
  const fixed = specs.filter((s) => s.name !== 'free');
  it('fills one reused frame per signature with exactly what a fresh frame holds', () => {
    const records: Record<string, unknown>[] = [
      { n: 1, x: 2.5, b: true, c: 'a', s: 'id1' },
      { n: 2, b: 'no', c: 'b' },
      { n: 3, x: null, b: 0, c: 'a', s: 7 },
      { n: 99, b: 0, c: 'a' },
      { n: 4, x: -1, b: 1, c: 'b' },
    ];
    let seen: unknown = null;
    for (const r of records) {
      const fresh = recordsToFrame([r], fixed);
      const reused = recordsToFrame([r], fixed, { scratch: true });
      expect(reused.errors).toEqual(fresh.errors);
      expect(reused.frame?.toRecords() ?? null).toEqual(fresh.frame?.toRecords() ?? null);
      if (reused.frame) {
        if (seen) expect(reused.frame).toBe(seen);
        seen = reused.frame;
      }
    }
    // batches and free categories never use it
    const two = recordsToFrame([records[0], records[1]], fixed, { scratch: true });
    expect(two.frame).not.toBe(seen);
    const free = recordsToFrame([{ n: 1, b: 1, c: 'a', free: 'q' }], specs, { scratch: true });
    expect(free.frame?.toRecords()).toEqual([{ n: 1, x: null, b: 1, c: 'a', free: 'q', s: null }]);
    expect(recordsToFrame([{ n: 1, b: 1, c: 'a', free: 'r' }], specs, { scratch: true }).frame).not.toBe(
      free.frame,
    );
  });
});
