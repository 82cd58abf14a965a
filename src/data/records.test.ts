import { describe, expect, it } from 'vitest';
import { recordsToFrame } from './records.js';
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
