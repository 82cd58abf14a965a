import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Column, Frame } from '../data/frame.js';
import { columnsToFrame, recordsToFrame } from '../data/records.js';
import type { ColumnSpec } from '../data/schema.js';
import { fastBodyFor } from './fast-body.js';

const specs: ColumnSpec[] = [
  { name: 'x', type: 'number', nullable: true },
  { name: 'n', type: 'integer', nullable: false, min: 0, max: 100 },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 'c', type: 'category', nullable: true, allowed: ['a', 'b', 'ä', 'dup', 'dup', ''] },
  { name: 'd', type: 'category', nullable: false, allowed: ['yes', 'no'] },
  { name: 'columns', type: 'number', nullable: true },
] as ColumnSpec[];

/** The frame the generic reader gives for this body, or null with errors (what the route would do). */
function generic(text: string): Frame | null {
  const body = JSON.parse(text);
  if (Array.isArray(body)) return recordsToFrame(body, specs).frame;
  if (body && typeof body === 'object') {
    if (Array.isArray(body.records)) return recordsToFrame(body.records, specs).frame;
    if (body.columns && typeof body.columns === 'object' && !Array.isArray(body.columns))
      return columnsToFrame(body.columns, specs).frame;
  }
  return recordsToFrame([body], specs).frame;
}

/** Columns as comparable arrays: numbers by their bits (NaN and -0 kept apart). */
function cells(f: Frame): unknown[] {
  return f.names.map((n) => {
    const c: Column = f.col(n);
    if (c.kind === 'numeric') return Array.from(new BigInt64Array(Float64Array.from(c.values).buffer));
    if (c.kind === 'categorical') return { codes: Array.from(c.codes), categories: c.categories };
    return c.values;
  });
}

/** When the fast reader answers, it is exactly the generic reader's frame; it never answers an error. */
function check(text: string): 'fast' | 'generic' {
  const fast = fastBodyFor(specs)!.read(Buffer.from(text, 'utf8'));
  if (!fast) return 'generic';
  let g: Frame | null = null;
  expect(() => {
    g = generic(text);
  }).not.toThrow();
  expect(g).not.toBeNull();
  expect(cells(fast)).toEqual(cells(g!));
  return 'fast';
}

const good = { x: 1.25, n: 3, b: true, c: 'ä', d: 'no', columns: -0 };

describe('the fast body reader', () => {
  it('reads one record and a columnar batch as the generic reader does', () => {
    expect(check(JSON.stringify(good))).toBe('fast');
    expect(check(' {"x" : null ,"n":0,\n"d":"yes"}\t')).toBe('fast');
    expect(check('{"d":"yes","n":100,"c":"dup","b":0}')).toBe('fast');
    expect(check('{"n":5,"d":"no","c":""}')).toBe('fast');
    const cols = {
      columns: {
        x: [1, null, -2.5e-3, 1e300],
        n: [1, 2, 3, 4],
        c: ['a', null, 'dup', 'ä'],
        d: ['yes', 'no', 'no', 'yes'],
        b: [true, false, 1, -0],
      },
    };
    expect(check(JSON.stringify(cols))).toBe('fast');
  });

  it('leaves every doubtful body to the generic reader', () => {
    const generic = [
      '',
      '[]',
      '{}',
      '[{"n":1,"d":"yes"}]',
      '{"records":[{"n":1,"d":"yes"}]}',
      '{"n":1,"d":"yes","extra":1}', // unknown field (generic ignores it)
      '{"n":1,"d":"yes","n":2}', // repeated key
      '{"n":1.5,"d":"yes"}', // not an integer
      '{"n":101,"d":"yes"}', // above max
      '{"n":"3","d":"yes"}', // numeric string
      '{"n":1,"d":"maybe"}', // not allowed
      '{"n":1,"d":"y\\u0065s"}', // an escape
      '{"n":1}', // required field absent
      '{"n":01,"d":"yes"}', // not JSON
      '{"n":1,"d":"yes",}',
      '{"n":1,"d":"yes"} x',
      '{"n":1,"d":"yes","b":2}',
      '{"n":1,"d":"yes","x":1e999}',
      '{"columns":{"n":[1,2],"d":["yes"]}}', // lengths differ
      '{"columns":{"n":[],"d":[]}}',
      '{"columns":{"n":[1],"d":["yes"]},"x":1}',
    ];
    for (const text of generic) expect(check(text), text).toBe('generic');
    // a record whose `columns` field is a number is still one record
    expect(check('{"columns":5,"n":1,"d":"yes"}')).toBe('fast');
    expect(check('{"n":1,"columns":5,"d":"yes"}')).toBe('fast');
  });

  it('converts numbers to the very doubles JSON.parse gives', () => {
    const read = (t: string) => {
      const f = fastBodyFor(specs)!.read(Buffer.from(`{"n":1,"d":"yes","x":${t}}`));
      return f ? f.numeric('x')[0] : undefined;
    };
    // the same text as a columnar batch's second column (its numbers are read by another loop)
    const readColumn = (t: string) => {
      const f = fastBodyFor(specs)!.read(
        Buffer.from(`{"columns":{"n":[1,2],"d":["yes","no"],"x":[${t}, ${t}]}}`),
      );
      return f ? f.numeric('x')[1] : undefined;
    };
    const same = (t: string) => {
      for (const got of [read(t), readColumn(t)])
        expect(got === undefined ? 'generic' : Object.is(got, JSON.parse(t)), t).toBe(true);
    };
    for (const t of ['0', '-0', '0.1', '1e22', '1e23', '123456789012345', '1234567890123456789', '5e-324'])
      same(t);
    // around the short form's limits (9 digits, no exponent), and text that is not a number
    for (const t of ['999999999', '1000000000', '-0.00000001', '0.000000001', '12345.6789', '1234.56789'])
      same(t);
    for (const t of ['01', '-', '-.5', '.5', '1.e5', '00', '1..2', '-01.5', '7.']) {
      expect(read(t), t).toBeUndefined();
      expect(readColumn(t), t).toBeUndefined();
    }
    for (const t of [
      '9007199254740993',
      '0.30000000000000004',
      '-1.7976931348623157e308',
      '2.2250738585072014e-308',
    ])
      same(t);
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        same(JSON.stringify(v));
      }),
      { numRuns: 3000 },
    );
    // decimal text as people write it: digits, a fraction, an exponent
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9][0-9]{0,19})$/),
        fc.option(fc.stringMatching(/^[0-9]{1,20}$/)),
        fc.option(
          fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 40 })),
        ),
        (neg, int, frac, exp) => {
          const t = `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`;
          same(t);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('fuzz: any body the fast reader takes gives the generic frame', () => {
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -5, max: 120 }),
      fc.constantFrom(null, true, false, 0, 1, 'a', 'b', 'ä', 'dup', '', 'yes', 'no', '3'),
      fc.jsonValue(),
    );
    // mostly valid records, each field sometimes replaced, dropped or joined by another key
    const field = (ok: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 40, arbitrary: ok }, value, fc.constant(undefined));
    const valid = {
      x: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
      n: fc.integer({ min: 0, max: 100 }),
      b: fc.constantFrom(true, false, 0, 1, null),
      c: fc.constantFrom('a', 'b', 'ä', 'dup', '', null),
      d: fc.constantFrom('yes', 'no'),
      columns: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
    };
    const record = fc.record({
      x: field(valid.x),
      n: field(valid.n),
      b: field(valid.b),
      c: field(valid.c),
      d: field(valid.d),
      columns: field(valid.columns),
      other: fc.option(value, { freq: 8 }),
    });
    const column = (ok: fc.Arbitrary<unknown>, n: number) =>
      fc.oneof(
        { weight: 30, arbitrary: fc.array(field(ok), { minLength: n, maxLength: n }) },
        fc.array(field(ok), { maxLength: 4 }),
        value,
        fc.constant(undefined),
      );
    const columnar = fc.integer({ min: 0, max: 4 }).chain((n) =>
      fc.record({
        columns: fc.record({
          x: column(valid.x, n),
          n: column(valid.n, n),
          b: column(valid.b, n),
          c: column(valid.c, n),
          d: column(valid.d, n),
        }),
      }),
    );
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(record, columnar, fc.array(record)), fc.boolean(), (body, spaced) => {
        if (check(JSON.stringify(body, null, spaced ? 1 : undefined)) === 'fast') fast++;
      }),
      { numRuns: 3000 },
    );
    // the fuzz reaches the fast path often (about 1 body in 7)
    expect(fast).toBeGreaterThan(100);
  });
});
