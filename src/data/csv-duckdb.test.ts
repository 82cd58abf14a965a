/**
 * The DuckDB fast path of readCsv against the strict reader: on clean files both give the same
 * frame (bit for bit), report, quarantine, source and profile; on anything else the fast path
 * gives up and readCsv's answer (result or error) is the strict reader's.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/random.js';
import { hashRows, hasRepeatedRow, readCsvDuckDB } from './csv-duckdb.js';
import { fileSource } from './csv-stream.js';
import type { Frame } from './frame.js';
import { churnSchema, parseSchema, profileFrame, type ReadResult, readCsv, type Schema } from './index.js';
import { type CsvOptions, inferCsvSchema } from './read.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-duckdb-csv-'));
let k = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${k++}.csv`);
  writeFileSync(p, content);
  return p;
}

function sameFrame(a: Frame, b: Frame): void {
  expect(b.names).toEqual(a.names);
  expect(b.nRows).toBe(a.nRows);
  for (const name of a.names) {
    const x = a.col(name);
    const y = b.col(name);
    expect(y.kind, name).toBe(x.kind);
    if (x.kind === 'numeric' && y.kind === 'numeric') {
      // bit for bit: -0, NaN
      expect(
        Buffer.from(y.values.buffer, y.values.byteOffset, y.values.byteLength).equals(
          Buffer.from(x.values.buffer, x.values.byteOffset, x.values.byteLength),
        ),
        name,
      ).toBe(true);
    } else if (x.kind === 'categorical' && y.kind === 'categorical') {
      expect(y.categories, name).toEqual(x.categories);
      expect(Array.from(y.codes), name).toEqual(Array.from(x.codes));
    } else if (x.kind === 'string' && y.kind === 'string') expect(y.values, name).toEqual(x.values);
  }
}

function sameResult(strict: ReadResult, fast: ReadResult): void {
  sameFrame(strict.frame, fast.frame);
  expect(fast.report).toEqual(strict.report);
  expect(fast.quarantine).toEqual(strict.quarantine);
  expect(fast.source).toEqual(strict.source);
  expect(fast.schema).toEqual(strict.schema);
  expect(profileFrame(fast.frame)).toEqual(profileFrame(strict.frame));
}

/** The fast path takes the file, and readCsv gives exactly the strict reader's result. */
async function fastAndSame(p: string, schema: Schema, options: CsvOptions = {}): Promise<ReadResult> {
  const direct = await readCsvDuckDB(p, statSync(p).size, schema, options);
  expect(direct.ok ? 'ok' : direct.reason).toBe('ok');
  const strict = await readCsv(p, schema, { ...options, engine: 'strict' });
  const fast = await readCsv(p, schema, { ...options, engine: 'duckdb' });
  sameResult(strict, fast);
  expect(fast.reader).toEqual({ engine: 'duckdb' });
  expect(strict.reader).toEqual({ engine: 'strict' });
  return fast;
}

/** The fast path gives up on the file, and readCsv's result or error is the strict reader's. */
async function fallsBack(p: string, schema: Schema, why: RegExp, options: CsvOptions = {}): Promise<void> {
  const direct = await readCsvDuckDB(p, statSync(p).size, schema, options);
  expect(direct.ok ? 'ok' : direct.reason).toMatch(why);
  let strictError: unknown = null;
  let strict: ReadResult | null = null;
  try {
    strict = await readCsv(p, schema, { ...options, engine: 'strict' });
  } catch (e) {
    strictError = e;
  }
  if (strict) {
    const fast = await readCsv(p, schema, { ...options, engine: 'duckdb' });
    sameResult(strict, fast);
    expect(fast.reader?.gaveUp).toMatch(why);
  } else {
    const e = strictError as { code: string; message: string; where: unknown };
    await expect(readCsv(p, schema, { ...options, engine: 'duckdb' })).rejects.toMatchObject({
      code: e.code,
      message: e.message,
      where: e.where,
    });
  }
}

/** A file like ../shared/bench/gen_data.py's: 6-decimal floats, ~2% missing in three columns, codes, a 0/1 label. */
function genDataLike(rows: number, seed = 1): string {
  const rng = new Rng(seed);
  const head = [...Array.from({ length: 8 }, (_, i) => `f${i}`), 'cat_a', 'cat_b', 'cat_c', 'label'];
  const lines = [head.join(',')];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let i = 0; i < 8; i++) {
      const v = (rng.next() - 0.5) * 8;
      cells.push((i === 1 || i === 5 || i === 7) && rng.next() < 0.02 ? '' : v.toFixed(6));
    }
    cells.push(`a${Math.floor(rng.next() * 4)}`);
    cells.push(`b${Math.floor(rng.next() * 8)}`);
    cells.push(`c${String(Math.floor(rng.next() * 30)).padStart(2, '0')}`);
    cells.push(String(rng.next() < 0.5 ? 0 : 1));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

const inferred = (p: string) => inferCsvSchema(fileSource(p), p);

describe('the DuckDB fast path gives the strict reader results on clean files', () => {
  it('synthetic churn data, under its schema and under an inferred one', async () => {
    const { churnCsv } = await import('./synth.js');
    const p = file(churnCsv({ rows: 3000, seed: 7 }));
    const r = await fastAndSame(p, churnSchema());
    expect(r.report.rows).toBe(3000);
    await fastAndSame(p, await inferred(p));
  });

  it('a gen_data.py-like file with missing values, and its quarantine file', async () => {
    const p = file(genDataLike(20_000));
    const schema = await inferred(p);
    expect(schema.missing_values.length).toBeGreaterThan(1);
    const r = await fastAndSame(p, schema, { quarantineFile: join(dir, 'q.csv') });
    expect(r.frame.numeric('f1').some(Number.isNaN)).toBe(true);
  });

  it('missing texts first seen after the first 4 MiB chunk, or across its end', async () => {
    // DuckDB is only told the missing texts found in the first chunk: a later one makes the read
    // start over with all of them (-999 would otherwise be read as a number, NA refused)
    const lines = genDataLike(60_000, 3).split('\n');
    const schema = await inferred(file(lines.join('\n')));
    /** The file with f1 (nullable) set to `cell` on the line where f1 then starts at byte `at`. */
    const withCell = (cell: string, at: number): string => {
      let start = 0;
      let i = 0;
      while (start + lines[i].length + 1 <= at - 12) start += lines[i++].length + 1;
      const cells = lines[i].split(',');
      // f0 padded so that f1 starts at `at`: 1.000…0 (the value 1)
      const width = at - start - 1;
      cells[0] = width === 1 ? '1' : `1.${'0'.repeat(width - 2)}`;
      cells[1] = cell;
      expect(start + cells[0].length + 1).toBe(at);
      return [...lines.slice(0, i), cells.join(','), ...lines.slice(i + 1)].join('\n');
    };
    const minus = parseSchema({ ...schema, missing_values: ['', '-999'] });
    const na = parseSchema({ ...schema, missing_values: ['', 'NA'] });
    const nan = (r: ReadResult) => r.frame.numeric('f1').filter(Number.isNaN).length;
    const plain = await readCsv(file(lines.join('\n')), minus, { engine: 'strict' });
    expect(plain.report.rows).toBe(60_000);
    // after the first chunk, across its end and across the end of a later one (the scan reads 1
    // MiB at a time after the first 4 MiB) (-999 read as a number; NA refused as one)
    for (const at of [5 << 20, (4 << 20) - 3, (5 << 20) - 2])
      expect(nan(await fastAndSame(file(withCell('-999', at)), minus))).toBe(nan(plain) + 1);
    for (const at of [(4 << 20) - 1, (5 << 20) + 4096, (5 << 20) - 1])
      expect(nan(await fastAndSame(file(withCell('NA', at)), na))).toBe(nan(plain) + 1);
  });

  const telco = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'telco_churn.csv');
  it.skipIf(!existsSync(telco))('the Telco churn CSV under an inferred schema', async () => {
    // TotalCharges has blank cells (" "): missing, as the strict reader trims them
    const r = await fastAndSame(telco, await inferred(telco));
    expect(r.report.rows).toBe(7043);
  });

  const s = parseSchema({
    target: { column: 'y', positive: 'yes', classes: ['no', 'yes'] },
    columns: [
      { name: 'id', type: 'string', unique: true },
      { name: 'x', type: 'number', nullable: true, min: -10, max: 10 },
      { name: 'n', type: 'integer', nullable: true },
      { name: 'b', type: 'boolean', nullable: true },
      { name: 'd', type: 'datetime', nullable: true },
      { name: 'c', type: 'category', nullable: true },
      { name: 'y', type: 'category' },
    ],
  });
  const head = 'id,x,n,b,d,c,y';

  it('every column type, CRLF, a BOM, blank lines, spaces, extra columns, no final line end', async () => {
    await fastAndSame(
      file(
        `${head}\n1,1.5,3,yes,2026-12-01,z,no\n2,-0,4.0,F,2026-12-01T10:00:00Z, a ,yes\n3,,,,,,no\n4, 2e-3 ,1e2,true,,z,yes\n`,
      ),
      s,
    );
    await fastAndSame(file(`\ufeff${head}\r\n1,1.5,3,yes,2026-12-01,z,no\r\n\r\n2,2,4,no,,a,yes\r\n`), s);
    await fastAndSame(file(`${head}\n1,1.5,3,yes,2026-12-01,z,no\n\n2,2,4,no,,a_b,yes`), s);
    await fastAndSame(file(`${head}\n1, ,3,yes,,  ,no\n2,2,\t,no,,a,yes\n`), s);
    await fastAndSame(file(`${head},extra\n1,1.5,3,yes,2026-12-01,z,no,q\n2,2,4,no,,a,yes,r\n`), s);
    // tab-separated, with tabs nowhere else
    await fastAndSame(
      file(`${head.replaceAll(',', '\t')}\n1\t1.5\t3\tyes\t2026-12-01\tz\tno\n2\t \t4\tno\t\ta\tyes\n`),
      s,
      { delimiter: '\t' },
    );
    // a column missing everywhere: the all_missing warning
    await fastAndSame(file(`${head}\n1,,3,yes,,z,no\n2,,4,no,,a,yes\n`), s);
  });

  it('a line ending in the delimiter where the scanned chunks meet', async () => {
    // the delimiter the last byte of the first 4 MiB chunk or of a later 1 MiB one, its line feed
    // (or CR LF) the first of the next; and in the middle of a chunk
    const rows: string[] = [];
    let size = head.length + 1;
    const row = (i: number, c: string) => `${i},1,3,yes,,${c},${i % 2 ? 'yes' : 'no'}`;
    for (let i = 0; size < (6 << 20) - 200; i++) {
      rows.push(row(i, 'z'));
      size += rows[i].length + 1;
    }
    const text = `${head}\n${rows.join('\n')}\n`;
    await fastAndSame(file(text), s);
    const ending = (at: number, end: string) => {
      // the row that holds byte `at`, padded so that its trailing delimiter is byte at - 1
      let start = head.length + 1;
      let i = 0;
      while (start + rows[i].length + 1 <= at - 40) start += rows[i++].length + 1;
      const plain = row(i, '').length;
      const line = `${row(i, 'z'.repeat(at - 1 - start - plain))},`;
      expect(start + line.length).toBe(at);
      return `${text.slice(0, start)}${line}${end}${text.slice(start + rows[i].length + 1)}`;
    };
    for (const at of [4 << 20, 5 << 20, (5 << 20) + 12345])
      for (const end of ['\n', '\r\n']) {
        const t = ending(at, end);
        // CR LF on one line only: DuckDB refuses mixed line endings first
        await fallsBack(file(t), s, end === '\n' ? /ends in the delimiter/ : /ends in the delimiter|DuckDB/);
      }
  });

  it('gives up on anything the strict reader reports or reads differently', async () => {
    const ok = '1,1.5,3,yes,2026-12-01,z,no\n2,2,4,no,,a,yes\n';
    const cases: [string, RegExp][] = [
      [`${head}\n"1",1.5,3,yes,,z,no\n2,2,4,no,,a,yes\n`, /quotes/],
      [`${head}\n${ok}3,1_0,4,no,,a,yes\n`, /_ in a numeric column/],
      [`${head}\n${ok}3,+-1,4,no,,a,yes\n`, /\+- in a numeric column/],
      [`${head}\n${ok}3,1,4,no,,a,yes,\n`, /ends in the delimiter/],
      [`${head}\r\n1,1.5,3,yes,,z,no\r\n2,2,4,no,,a,yes,\r\n`, /ends in the delimiter/],
      [`${head}\n1,1.5,3,yes,,z,no,\n2,2,4,no,,a,yes\n`, /ends in the delimiter/],
      [`${head}\n${ok}3,1,4,no,,a,yes,`, /ends in the delimiter/],
      [`${head}\n${ok}3,NaN,4,no,,a,yes\n`, /NaN|DuckDB/],
      [`${head}\n${ok}3,nan,4,no,,a,yes\n`, /NaN/],
      [`${head}\n${ok}3,inf,4,no,,a,yes\n`, /infinite/],
      [`${head}\n${ok}3,11,4,no,,a,yes\n`, /out of bounds/],
      [`${head}\n${ok}3,1,4.5,no,,a,yes\n`, /integer/],
      [`${head}\n${ok}3,x,4,no,,a,yes\n`, /DuckDB/],
      [`${head}\n${ok}3,1,4,maybe,,a,yes\n`, /boolean/],
      [`${head}\n${ok}3,1,4,no,someday,a,yes\n`, /datetime/],
      [`${head}\n${ok}1,1,4,no,,a,yes\n`, /unique/],
      [`${head}\n${ok}3,1,4,no,,a,maybe\n`, /DuckDB/],
      [`${head}\n${ok}3,1,4,no,,a, yes\n`, /DuckDB/],
      [`${head}\n${ok}3,1,4,no,,a,\n`, /delimiter|missing/],
      [`${head}\n1,1.5,3,yes,,z,no\n2,2,4,no,,a,no\n`, /target classes/],
      [`${head}\n${ok}3,1,4\n`, /DuckDB/],
      [`${head}\n${ok}3,1,4,no,,a,yes,9\n`, /DuckDB/],
      [`${head}\n1,1.5,3,yes,,z,no\r\n2,2,4,no,,a,yes\n`, /DuckDB/],
      [`${head}\n1,1.5,3,yes,,z,no\r2,2,4,no,,a,yes\n`, /DuckDB/],
      [`id;x;n;b;d;c;y\n1;1;1;no;;a;yes\n`, /one column/],
      [`id,x,x,b,d,c,y\n1,1,1,no,,a,yes\n`, /header/],
      [`${head}\n`, /no rows/],
    ];
    for (const [text, why] of cases) await fallsBack(file(text), s, why);
    // invalid UTF-8
    await fallsBack(
      file(
        Buffer.concat([
          Buffer.from(`${head}\n${ok}3,1,4,no,,`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(',yes\n'),
        ]),
      ),
      s,
      /UTF-8|DuckDB/,
    );
    // duplicate rows, as a warning (default) and quarantined
    const dup = file(`x,c,y\n1,a,no\n2,b,yes\n1,a,no\n`);
    const d = parseSchema({ ...s, columns: [s.columns[1], s.columns[5], s.columns[6]] });
    await fallsBack(dup, d, /duplicate rows/);
    await fallsBack(dup, parseSchema({ ...d, duplicate_rows: 'quarantine' }), /duplicate rows/);
    await fastAndSame(dup, parseSchema({ ...d, duplicate_rows: 'allow' }));
    // more rows than the first chunk's line lengths foretold: the rows past the estimate are
    // checked for repeats at the end, with the others
    const long = parseSchema({
      ...d,
      columns: [{ name: 'id', type: 'string' }, { name: 'x', type: 'number' }, s.columns[5], s.columns[6]],
    });
    const wideLines = Array.from({ length: 9000 }, (_, i) => `${String(i).padStart(500, 'w')},${i},a,no`);
    const shortLines = Array.from({ length: 60_000 }, (_, i) => `s${i},${i},b,yes`);
    const many = `id,x,c,y\n${[...wideLines, ...shortLines].join('\n')}\n`;
    await fastAndSame(file(many), long);
    await fallsBack(file(`${many}s59999,59999,b,yes\n`), long, /duplicate rows/);
    await fallsBack(file(`${many}${wideLines[5]}\n`), long, /duplicate rows/);
    // "1.0" and "1" are equal values but different texts: not a duplicate for the strict reader
    await fallsBack(file(`x,c,y\n1,a,no\n2,b,yes\n1.0,a,no\n`), d, /duplicate rows/);
    // NaN and infinities in an unbounded number column, in a chunk without missing cells
    const free = parseSchema({ ...d, columns: [{ name: 'x', type: 'number' }, s.columns[5], s.columns[6]] });
    await fallsBack(file(`x,c,y\n1,a,no\n2,b,yes\n-inf,a,no\n`), free, /infinity/);
    await fallsBack(file(`x,c,y\n1,a,no\n2,b,yes\nnan,a,no\n`), free, /NaN/);
    await fastAndSame(file(`x,c,y\n1,a,no\n2,b,yes\n-0,a,no\n`), free);
    // row counts, regex, missing values without the empty string, no header
    await fallsBack(file(`${head}\n${ok}`), parseSchema({ ...s, rows: { min: 5 } }), /row count/);
    await fallsBack(
      file(`${head}\n${ok}`),
      parseSchema({ ...s, columns: s.columns.map((c) => (c.name === 'id' ? { ...c, regex: '\\d+' } : c)) }),
      /regex/,
    );
    await fallsBack(file(`${head}\n${ok}`), parseSchema({ ...s, missing_values: ['NA'] }), /empty string/);
    await fallsBack(file(ok), s, /no header/, { header: false });
  });
});

describe('duplicate rows on the fast path', () => {
  /** Columns as hasRepeatedRow takes them: numbers by their bits (two words a row), codes. */
  const asWords = (nums: Float64Array[], codes: Int32Array[]) => ({
    words: [...nums.map((f) => new Int32Array(f.buffer, f.byteOffset, f.length * 2)), ...codes],
    wide: [...nums.map(() => true), ...codes.map(() => false)],
  });
  /** Distinct random rows: two number columns (one with NaN for missing) and a code column. */
  const rows = (n: number, seed: number) => {
    const rng = new Rng(seed);
    const a = Float64Array.from({ length: n }, (_, i) => i + rng.next());
    const b = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? Number.NaN : rng.next()));
    const c = Int32Array.from({ length: n }, () => Math.floor(rng.next() * 5));
    return { a, b, c };
  };
  const hashed = (words: Int32Array[], wide: boolean[], n: number, keys = words.map((_, k) => k)) => {
    const hs = new Int32Array(n);
    hashRows(words, wide, keys, hs, 0, n);
    return hs;
  };

  it('finds a repeat near or far, with missing numbers, and only a true one', () => {
    const n = 50_000;
    const { a, b, c } = rows(n, 5);
    const { words, wide } = asWords([a, b], [c]);
    expect(hasRepeatedRow(words, wide, hashed(words, wide, n), n)).toBe(false);
    // the last row repeats the first (far apart), then the second-to-last
    for (const [to, from] of [
      [n - 1, 0],
      [n - 1, n - 2],
    ]) {
      const a2 = a.slice();
      const b2 = b.slice();
      const c2 = c.slice();
      a2[to] = a2[from];
      b2[to] = Number.NaN;
      b2[from] = Number.NaN;
      c2[to] = c2[from];
      const w = asWords([a2, b2], [c2]);
      expect(hasRepeatedRow(w.words, w.wide, hashed(w.words, w.wide, n), n)).toBe(true);
      // a difference in the code column alone: no repeat
      c2[to] = c2[from] + 1;
      const w2 = asWords([a2, b2], [c2]);
      expect(hasRepeatedRow(w2.words, w2.wide, hashed(w2.words, w2.wide, n), n)).toBe(false);
    }
    // -0 is not 0 (as "-0" is not "0" for the strict reader)
    const z = asWords([Float64Array.of(0, 1, -0)], [Int32Array.of(1, 2, 1)]);
    expect(hasRepeatedRow(z.words, z.wide, hashed(z.words, z.wide, 3), 3)).toBe(false);
  });

  it('equal hashes of different rows are not repeats, however many', () => {
    const n = 20_000;
    const { a, b, c } = rows(n, 9);
    const { words, wide } = asWords([a, b], [c]);
    // every hash equal: made again over every column
    expect(hasRepeatedRow(words, wide, new Int32Array(n), n)).toBe(false);
    // every hash equal and not made again: the rows are compared by value
    expect(hasRepeatedRow(words, wide, new Int32Array(n), n, undefined, false)).toBe(false);
    // pairs and triples of equal hashes (in one bucket and across buckets)
    const hs = hashed(words, wide, n);
    for (let r = 0; r + 2 < n; r += 97) {
      hs[r + 1] = hs[r];
      if (r % 3 === 0) hs[r + 2] = hs[r];
    }
    expect(hasRepeatedRow(words, wide, hs, n)).toBe(false);
    // a hash of the code column only (few values): many equal hashes, still no repeat
    expect(hasRepeatedRow(words, wide, hashed(words, wide, n, [2]), n)).toBe(false);
    const c2 = c.slice();
    const a2 = a.slice();
    a2[n - 1] = a2[3];
    const b2 = b.slice();
    b2[n - 1] = b2[3];
    c2[n - 1] = c2[3];
    const w = asWords([a2, b2], [c2]);
    expect(hasRepeatedRow(w.words, w.wide, hashed(w.words, w.wide, n, [2]), n)).toBe(true);
    expect(hasRepeatedRow(w.words, w.wide, new Int32Array(n), n, undefined, false)).toBe(true);
    // equal hashes, rows that differ in one word of one column only (the last, a sign, a low word)
    const same = (x: number[], y: number[], k: number[]) => {
      const v = asWords([Float64Array.from(x), Float64Array.from(y)], [Int32Array.from(k)]);
      return [2, 3].map((m) => hasRepeatedRow(v.words, v.wide, new Int32Array(m), m, undefined, false));
    };
    expect(same([1, 1, 1], [2, 2, 2], [0, 1, 0])).toEqual([false, true]);
    expect(same([1, -1, 1], [2, 2, 2], [0, 0, 0])).toEqual([false, true]);
    expect(same([1, 1 + 2 ** -52, 1], [2, 2, 2], [0, 0, 0])).toEqual([false, true]);
    expect(same([1, 1, 1], [2, -2, 2], [0, 0, 0])).toEqual([false, true]);
    // equal words, the texts tell them apart (null first)
    const v = asWords([Float64Array.of(1, 1, 1, 1)], [Int32Array.of(7, 7, 7, 7)]);
    const texts = (t: (string | null)[]) =>
      hasRepeatedRow(v.words, v.wide, new Int32Array(4), 4, undefined, false, [t]);
    expect(texts(['a', 'b', null, 'c'])).toBe(false);
    expect(texts(['a', 'b', null, 'a'])).toBe(true);
    expect(texts([null, 'b', null, 'c'])).toBe(true);
    expect(
      hasRepeatedRow(v.words, v.wide, new Int32Array(4), 4, undefined, true, [['a', 'b', 'c', 'd']]),
    ).toBe(false);
  });

  it('files: a repeat far apart, missing cells, text columns, -0', async () => {
    // (k last: a line may not end in the delimiter)
    const d = parseSchema({
      columns: [
        { name: 'id', type: 'string', nullable: true },
        { name: 'x', type: 'number', nullable: true },
        { name: 'c', type: 'category', nullable: true },
        { name: 'k', type: 'category' },
      ],
    });
    const body = Array.from({ length: 30_000 }, (_, i) => `t${i % 1000},${i},${i % 7 === 0 ? '' : 'a'},k`);
    await fastAndSame(file(`id,x,c,k\n${body.join('\n')}\n`), d);
    // the first row again at the end (past DuckDB's first chunks)
    await fallsBack(file(`id,x,c,k\n${body.join('\n')}\n${body[0]}\n`), d, /duplicate rows/);
    // missing numbers and texts: equal, as the strict reader's empty cells are
    await fallsBack(file(`id,x,c,k\n,,a,k\nq,1,b,k\n,,a,k\n`), d, /duplicate rows/);
    // only the text column differs
    await fastAndSame(file(`id,x,c,k\nab,1,a,k\nq,1,b,k\nba,1,a,k\n`), d);
    await fallsBack(file(`id,x,c,k\nab,1,a,k\nq,1,b,k\nab,1,a,k\n`), d, /duplicate rows/);
    // -0 and 0: different texts, no repeat for either reader
    await fastAndSame(file(`id,x,c,k\nq,0,a,k\nq,-0,a,k\n`), d);
    // texts whose 32-bit hashes collide ("10189" and "197186"): compared as texts, no repeat
    await fastAndSame(file(`id,x,c,k\n10189,1,a,k\nq,1,b,k\n197186,1,a,k\n`), d);
    await fallsBack(file(`id,x,c,k\n10189,1,a,k\nq,1,b,k\n10189,1,a,k\n`), d, /duplicate rows/);
  });
});
