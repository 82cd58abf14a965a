/**
 * The streaming reader against the reference path (parseCsv on the whole text, then
 * typeAndValidate): the same frame, report and quarantine for random files and schemas, cut into
 * chunks at random places (inside quotes, between CR and LF, inside multi-byte characters).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';
import { type ByteSource, streamCsv } from './csv-stream.js';
import { parseSchema, type SchemaInput } from './schema.js';
import { typeAndValidate } from './validate.js';

function chunked(bytes: Buffer, cuts: number[]): ByteSource {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    parts.push(bytes.subarray(prev, c));
    prev = c;
  }
  parts.push(bytes.subarray(prev));
  return { size: bytes.length, chunks: () => parts };
}

async function both(text: string, input: SchemaInput, cuts: number[]) {
  const schema = parseSchema(input);
  let ref: unknown;
  try {
    const p = parseCsv(text, 'f.csv');
    const t = typeAndValidate(p.header, p.rows, schema, 'f.csv', p.lines);
    ref = { records: t.frame.toRecords(), report: t.report, quarantine: t.quarantine };
  } catch (e) {
    ref = { error: (e as Error).message };
  }
  let got: unknown;
  try {
    const s = await streamCsv(chunked(Buffer.from(text), cuts), 'f.csv', schema);
    got = { records: s.frame.toRecords(), report: s.report, quarantine: s.quarantine };
  } catch (e) {
    got = { error: (e as Error).message };
  }
  return { ref, got };
}

const cell = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '1',
    '-2.5',
    '3.',
    '.5',
    '1e3',
    '1e400',
    'NaN',
    'NA',
    'x',
    ' 7 ',
    'a',
    'b',
    'c',
    '0',
    'yes',
    'no',
    'true',
    'é',
    '"q"',
    'a,b',
    'l1\nl2',
    'r\r\n',
    '12345678901234567',
    '007',
    '+4',
    '-0',
  ),
  fc.integer({ min: -50, max: 50 }).map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => String(x)),
);

function quote(s: string): string {
  return /[",\r\n]/.test(s) || s === '' ? `"${s.replaceAll('"', '""')}"` : s;
}

const schemas: SchemaInput[] = [
  {
    columns: [
      { name: 'a', type: 'number', nullable: true },
      { name: 'b', type: 'integer', min: -10, max: 40 },
      { name: 'c', type: 'category' },
      { name: 'd', type: 'string', nullable: true, unique: true },
    ],
  },
  {
    missing_values: ['', 'NA', '-0'],
    duplicate_rows: 'quarantine',
    columns: [
      { name: 'd', type: 'category', allowed: ['a', 'b', '1', '0'], nullable: true },
      { name: 'a', type: 'boolean', nullable: true },
      { name: 'b', type: 'number', unique: true, max_length: 6 },
      { name: 'c', type: 'string', regex: '[a-z0-9 ]*', nullable: true },
    ],
  },
  {
    target: { column: 'c', positive: 'b', classes: ['a', 'b'] },
    duplicate_rows: 'error',
    rows: { min: 2 },
    columns: [
      { name: 'a', type: 'number' },
      { name: 'c', type: 'category', unique: true },
    ],
  },
  {
    duplicate_rows: 'allow',
    columns: [
      { name: 'a', type: 'string', nullable: true },
      { name: 'b', type: 'category', nullable: true },
      { name: 'c', type: 'category', nullable: true },
      { name: 'd', type: 'string', nullable: true },
    ],
  },
  {
    columns: [
      { name: 'a', type: 'datetime', nullable: true, min: '2000-01-01' },
      { name: 'b', type: 'number', nullable: true },
      { name: 'c', type: 'datetime' },
      { name: 'd', type: 'string', nullable: true },
    ],
  },
];

describe('streamCsv matches parseCsv + typeAndValidate', () => {
  it('on random files, schemas and chunk cuts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(0, 1, 2, 3, 4),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        async (rows, si, cuts, eol, bom) => {
          const text = `${bom ? '\ufeff' : ''}a,b,c,d${eol}${rows.map((r) => r.map(quote).join(',')).join(eol)}${eol}`;
          const { ref, got } = await both(text, schemas[si], cuts);
          expect(got).toEqual(ref);
        },
      ),
      { numRuns: 300, seed: 4 },
    );
  });

  it('duplicate rows: equal trimmed texts are duplicates, equal values in other spellings are not', async () => {
    const text = [
      'a,b,c,d',
      '1,2,x,u',
      ' 1 ,2,x,u', // trimmed: the same as line 2
      '"1",2,"x",u', // quoted: the same
      '1.0,2,x,u', // the same number, another text
      '01,2,x,u',
      '+1,2,x,u',
      '1,2, x,u', // category trimmed: the same
      '1,2,x,"u"',
      '1.,2,x,u',
      '1.,2,x,u',
      '-0,2,x,u',
      '0,2,x,u',
      '"1""",2,x,u',
      '"1""",2,x,u',
      '',
    ].join('\n');
    for (const mode of ['quarantine', 'warning'] as const) {
      const input: SchemaInput = {
        duplicate_rows: mode,
        columns: [
          { name: 'a', type: 'string' },
          { name: 'b', type: 'number' },
          { name: 'c', type: 'category' },
          { name: 'd', type: 'string' },
        ],
      };
      const numeric: SchemaInput = {
        ...input,
        columns: [{ name: 'a', type: 'number' }, ...input.columns.slice(1)],
      };
      for (const schema of [input, numeric])
        for (const cuts of [[], [7, 20, 33, 51]]) {
          const { ref, got } = await both(text, schema, cuts);
          expect(got).toEqual(ref);
          const report = (ref as { report: { violations: { rule: string; rows: number[] }[] } }).report;
          const dup = report.violations.find((v) => v.rule === 'duplicate_row');
          if (schema === input) expect(dup?.rows).toEqual([3, 4, 8, 9, 11, 15]);
        }
    }
  });

  it('on malformed files: the same errors', async () => {
    const s = schemas[0];
    for (const text of [
      'a,b,c,d\n1,2,x\n',
      'a,b,c,d\n1,2,x,y,z\n',
      'a,b,c,d\n1,2,"x,y\n',
      'a,b,c,d\n1,2,"x"y,z\n',
      'a,a,c,d\n1,2,x,y\n',
      'a,,c,d\n1,2,x,y\n',
      'a;b;c;d\n1;2;x;y\n',
      'a,b,c,d\n',
      'a,b,c,d\r\n\r\n',
      '\n\n',
      'a,b,c\n1,2,3\n',
      'a,b,c,d\r1,2,x,y\r3,4,z,w',
      'a,b,c,d\n\n1,2,x,y\n\n"",\n',
    ])
      for (const cuts of [[], [1], [3, 9, 14], [17]]) {
        const { ref, got } = await both(text, s, cuts);
        expect(got, JSON.stringify(text)).toEqual(ref);
      }
  });
});

describe('invalid UTF-8 is located as by a whole-file decode', () => {
  // the reference: the first byte at which a streaming decoder fails, then back to the start of the
  // character it breaks (a lead byte and its continuation bytes so far)
  function reference(bytes: Buffer): string | null {
    let k = -1;
    for (let n = 1; n <= bytes.length; n++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      } catch {
        k = n - 1;
        break;
      }
    }
    if (k < 0) return null;
    let start = k;
    for (let j = k - 1; j >= 0 && j >= k - 3; j--) {
      if ((bytes[j] & 0xc0) === 0x80) continue;
      if (bytes[j] >= 0xc2 && bytes[j] <= 0xf4) start = j;
      break;
    }
    let line = 1;
    for (let i = 0; i < start; i++) if (bytes[i] === 10) line++;
    return `f.csv is not valid UTF-8 (line ${line}, byte ${start})`;
  }
  const bad = [
    [0xff],
    [0xc3, 0x28],
    [0xe2, 0x28, 0xa1],
    [0xf0, 0x28, 0x8c, 0x28],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf5, 0x80],
  ];
  it('for random positions, sequences and chunk cuts', async () => {
    const schema = parseSchema({
      columns: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('x', 'é', '€', '𝄞', 'yz'), { minLength: 2, maxLength: 30 }),
        fc.nat(),
        fc.constantFrom(...bad.keys()),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (cells, at, which, cuts) => {
          const rows: string[] = [];
          for (let i = 0; i + 1 < cells.length; i += 2) rows.push(`${cells[i]},${cells[i + 1]}`);
          const good = Buffer.from(`a,b\n${rows.join('\n')}\n`);
          // inject the bad bytes at a character boundary after the header
          const text = good.toString('utf8');
          const chars = [...text];
          const head = 4;
          const pos = head + (at % (chars.length - head));
          const before = Buffer.from(chars.slice(0, pos).join(''));
          const bytes = Buffer.concat([before, Buffer.from(bad[which]), good.subarray(before.length)]);
          let got: string | null = null;
          try {
            await streamCsv(chunked(bytes, cuts), 'f.csv', schema);
          } catch (e) {
            got = (e as Error).message;
          }
          expect(got).toBe(reference(bytes));
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
