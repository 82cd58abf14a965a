/**
 * The DuckDB fast path of readCsv for clean files: DuckDB's parallel read_csv parses the file under
 * the schema's types (no sniffing: numbers as DOUBLE, categories with a fixed list as ENUM, other
 * text as VARCHAR) and streams its chunks, whose vectors are copied into Keel's typed columns
 * (Float64Array, Int32Array codes) without a JS call per number; the JS thread meanwhile hashes the
 * file's bytes (sha256) and checks them. Validation runs on the typed columns.
 *
 * The rule: this path only ever returns a result for a file on which the strict reader
 * (csv-stream.ts) would find nothing to report but the warnings it reproduces exactly
 * (unexpected_column, header_numbers, all_missing), and then its result is identical to the strict
 * reader's (frame, report, sha256). Whenever anything is or may be wrong it gives up and returns
 * the reason, and readCsv reads the file again with the strict reader for the exact report (file,
 * line, column, rule, quarantine). It gives up on:
 * - schemas it does not handle: no schema, a `regex` or `max_length` rule, missing_values without
 *   the empty string or with a delimiter, quote or line break in them, allowed values or target
 *   classes with surrounding spaces, a delimiter other than one ASCII byte (not a space or quote),
 *   a file without a header line;
 * - bytes: any double quote (DuckDB unquotes `"a" ` and ` "a"`, the strict reader refuses or keeps
 *   them), invalid UTF-8, a line ending in the delimiter (DuckDB drops a trailing delimiter), `_`
 *   or `+-` in a numeric column (DuckDB reads 1_000 and +-1 as numbers), a one-column file
 *   (DuckDB reads a blank line there as a missing value; with more columns both readers skip blank
 *   lines, and without quotes no record spans lines, so rows and lines agree), a header the strict
 *   reader would refuse, a header line with a CR inside or no line feed in the first 4 MiB;
 * - DuckDB refusing anything (a cell that is not a number, a value outside an ENUM, ragged rows,
 *   mixed line endings or lone CRs, a line over 2 MiB);
 * Blank cells of one or two spaces or a tab are read as missing (nullstr), as the strict reader
 * trims them to the empty string; other cells with spaces around them are typed as the strict
 * reader does (numbers by DuckDB, which trims the same ASCII spaces; text trimmed in JS).
 * - any row-level or table-level rule broken: a missing cell where it is not allowed, NaN or an
 *   infinity, a non-integer in an integer column, a value out of bounds, a text that is not a
 *   boolean or a date, a repeat in a unique column, a duplicate row (found by value: equal texts
 *   give equal values, so no value repeat means no text repeat), absent target classes, row
 *   counts out of bounds.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import bindings, { type DataChunk } from '@duckdb/node-bindings';
import { checkHeader } from './csv.js';
import { categoricalOf, Growable, quarantineLine, type StreamedCsv } from './csv-stream.js';
import { parseDatetime } from './datetime.js';
import { type Column, Frame } from './frame.js';
import type { ColumnSpec, Schema } from './schema.js';
import { checkColumns, type ValidationReport, type Violation } from './validate.js';

const CHUNK = 4 << 20;
/**
 * The scan reads the bytes after the first chunk 1 MiB at a time: a chunk then stays in L2 from
 * the read through the hash and the byte checks (1M-row bench file: the searches took ~half the
 * time of 4 MiB chunks).
 */
const SCAN_CHUNK = 1 << 20;
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const TRUE = new Set(['true', 'yes', 'y', '1', 't']);
const FALSE = new Set(['false', 'no', 'n', '0', 'f']);

export interface FastCsvOptions {
  delimiter?: string;
  header?: boolean;
  quarantineFile?: string;
}

export type FastCsvResult = (StreamedCsv & { sha256: string; ok: true }) | { ok: false; reason: string };

class GiveUp extends Error {}
function giveUp(reason: string): never {
  throw new GiveUp(reason);
}
/** A missing text left out of DuckDB's nullstr occurs in the file: read again with all of them. */
class AllMissingTexts extends Error {}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

type Kind = 'f64' | 'enum' | 'text';
interface Col {
  spec: ColumnSpec;
  kind: Kind;
  type: ColumnSpec['type'];
  isTarget: boolean;
  /** Missing cells are refused (not nullable, or the target). */
  noMissing: boolean;
  nMissing: number;
  min: number;
  max: number;
  isInt: boolean;
  num?: Growable<Float64Array>;
  codes?: Growable<Int32Array>;
  strs?: (string | null)[];
  /** Text columns: textHash of each row's text, for the duplicate-row check. */
  hashes?: Growable<Int32Array>;
  /** Category dictionary: the fixed list, or the texts in first-seen order. */
  dict?: string[];
  codeOf?: Map<string, number>;
  allowed?: readonly string[];
}

/** The column a byte offset of a complete line falls in (no quotes in the file, so delimiters count). */
function fieldAt(buf: Buffer, lineStart: number, at: number, delim: number): number {
  let k = 0;
  for (let i = lineStart; i < at; i++) if (buf[i] === delim) k++;
  return k;
}

/**
 * The checks on one stretch of whole lines: `_` or `+-` inside a numeric column (DuckDB would read
 * 1_000 or +-1 as numbers) and lines ending in the delimiter.
 */
function checkLines(buf: Buffer, numericField: Uint8Array, delim: number) {
  if (lineEndsInDelimiter(buf, delim)) giveUp('a line ends in the delimiter');
  for (const needle of [95, '+-'] as const) {
    for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + 1)) {
      const ls = buf.lastIndexOf(10, at) + 1;
      const k = fieldAt(buf, ls, at, delim);
      if (k >= numericField.length || numericField[k])
        giveUp(`${needle === 95 ? '_' : '+-'} in a numeric column`);
      const next = buf.indexOf(10, at);
      if (next < 0) break;
      at = next;
    }
  }
}

/**
 * Whether a line feed in buf follows the delimiter (or the delimiter and a CR). Buffer.lastIndexOf
 * finds the two or three bytes fast (it looks for their last byte, the line feed, with memrchr:
 * ~14 ms for the 200 MB bench file), unlike indexOf (it looks for the delimiter, which is
 * everywhere), a Buffer.indexOf per line feed (~45 ms) or a search of latin1 strings of the bytes
 * (~85 ms, and as much young garbage as the file has bytes).
 */
function lineEndsInDelimiter(buf: Buffer, delim: number): boolean {
  const d = String.fromCharCode(delim);
  return buf.lastIndexOf(`${d}\n`) >= 0 || (buf.indexOf(13) >= 0 && buf.lastIndexOf(`${d}\r\n`) >= 0);
}

/** The end of the last complete UTF-8 character in b (a multi-byte one may be cut by the chunk). */
function utf8Cut(b: Buffer): number {
  for (let back = 1; back <= 3 && back <= b.length; back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue;
    if (c < 0xc0) return b.length;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}

/**
 * Read a local CSV file with DuckDB under a schema, or say why not (see the file's comment). The
 * result is the strict reader's for the same file: the kept rows (all of them), the report before
 * distribution expectations, an empty quarantine, the byte count and the sha256.
 */
export async function readCsvDuckDB(
  path: string,
  size: number,
  schema: Schema,
  options: FastCsvOptions = {},
): Promise<FastCsvResult> {
  try {
    try {
      return await readFast(path, size, schema, options, false);
    } catch (e) {
      if (!(e instanceof AllMissingTexts)) throw e;
      return await readFast(path, size, schema, options, true);
    }
  } catch (e) {
    if (e instanceof GiveUp) return { ok: false, reason: e.message };
    return { ok: false, reason: `DuckDB: ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * A search for texts in bytes given chunk by chunk: true once any of them occurs, within a chunk
 * or across the edge between two (the end of the last chunk is kept for that).
 */
function textFinder(texts: string[]): (chunk: Buffer) => boolean {
  const keep = texts.length ? Math.max(...texts.map((t) => Buffer.byteLength(t))) - 1 : 0;
  // a text only starts at its first byte: a chunk is searched for the texts' first bytes (one
  // memchr each) and for whole texts only after their first byte is found
  const byFirst = new Map<number, string[]>();
  for (const t of texts) {
    const b = t === '' ? -1 : Buffer.from(t)[0];
    byFirst.set(b, [...(byFirst.get(b) ?? []), t]);
  }
  let tail: Buffer | null = null;
  return (c) => {
    for (const [b, ts] of byFirst)
      if ((b < 0 || c.indexOf(b) >= 0) && ts.some((t) => c.indexOf(t) >= 0)) return true;
    if (keep > 0 && tail) {
      const edge = Buffer.concat([tail, c.subarray(0, keep)]);
      if (texts.some((t) => edge.indexOf(t) >= 0)) return true;
    }
    tail = Buffer.from(c.subarray(Math.max(0, c.length - keep)));
    return false;
  };
}

/** Whether any of the texts occurs in the file's bytes (read in chunks). */
function fileHasAny(fd: number, texts: string[]): boolean {
  const buf = Buffer.allocUnsafe(CHUNK);
  const found = textFinder(texts);
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n === 0) return false;
    if (found(buf.subarray(0, n))) return true;
    pos += n;
  }
}

async function readFast(
  path: string,
  size: number,
  schema: Schema,
  options: FastCsvOptions,
  allMissingTexts: boolean,
): Promise<FastCsvResult> {
  const delimiter = options.delimiter ?? ',';
  const delim = delimiter.charCodeAt(0);
  if (
    delimiter.length !== 1 ||
    delim >= 128 ||
    delimiter === '"' ||
    delimiter === ' ' ||
    delim === 10 ||
    delim === 13
  )
    giveUp('delimiter');
  if (options.header === false) giveUp('no header line');
  const missingList = [...new Set(schema.missing_values.map((m) => m.trim()))];
  const missing = new Set(missingList);
  if (!missing.has('')) giveUp('missing_values without the empty string');
  if (missingList.some((m) => m.includes(delimiter) || /["\r\n]/.test(m))) giveUp('missing_values');
  for (const c of schema.columns) {
    if (c.regex !== undefined || c.max_length !== undefined) giveUp(`${c.name}: regex or max_length`);
    if (c.allowed?.some((a) => a !== a.trim())) giveUp(`${c.name}: allowed values with spaces`);
  }
  if (schema.target?.classes.some((a) => a !== a.trim())) giveUp('target classes with spaces');

  const fd = openSync(path, 'r');
  try {
    // the header line, parsed as the strict reader does (no quotes here)
    const buf = Buffer.allocUnsafe(CHUNK);
    let n = readSync(fd, buf, 0, CHUNK, null);
    const first = buf.subarray(0, n);
    const hashStart = createHash('sha256');
    let bom = 0;
    if (first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf) bom = 3;
    const nl = first.indexOf(10);
    if (nl < 0) giveUp('no line feed in the first chunk');
    if (first.indexOf(34) >= 0) giveUp('quotes');
    let headEnd = nl;
    if (headEnd > bom && first[headEnd - 1] === 13) headEnd--;
    const headText = first.toString('utf8', bom, headEnd);
    if (headText.includes('\r')) giveUp('CR in the header');
    const header = headText.split(delimiter).map((h) => h.trim());
    // DuckDB reads a blank line of a one-column file as a missing value, the strict reader skips it
    if (header.length < 2) giveUp('one column');
    try {
      checkHeader(header, path, delimiter);
      checkColumns(header, schema, path);
    } catch {
      giveUp('header');
    }
    const index = new Map(header.map((h, i) => [h, i]));
    const target = schema.target?.column;
    const cols: Col[] = schema.columns.map((spec) => {
      const isTarget = spec.name === target;
      const allowed =
        spec.type === 'category'
          ? isTarget && schema.target
            ? schema.target.classes
            : spec.allowed
          : undefined;
      const kind: Kind =
        spec.type === 'number' || spec.type === 'integer' ? 'f64' : allowed ? 'enum' : 'text';
      return {
        spec,
        kind,
        type: spec.type,
        isTarget,
        noMissing: isTarget || !spec.nullable,
        nMissing: 0,
        min: spec.min ?? Number.NEGATIVE_INFINITY,
        max: spec.max ?? Number.POSITIVE_INFINITY,
        isInt: spec.type === 'integer',
        allowed,
      };
    });
    // numeric columns by field position, for the byte checks
    const numericField = new Uint8Array(header.length);
    for (const c of cols) if (c.kind === 'f64') numericField[index.get(c.spec.name)!] = 1;

    // DuckDB opens (on a libuv thread) while the columns are allocated
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const opening = DuckDBInstance.create(':memory:');
    // bytes per line of the first chunk size the columns
    const firstLines = Math.max(1, first.lastIndexOf(10) > nl ? countLf(first, nl + 1) : 1);
    const capacity = Math.min(
      Math.ceil(((size - nl) / Math.max(1, (first.lastIndexOf(10) - nl) / firstLines)) * 1.03) + 64,
      1 << 26,
    );
    let rowHashes: RowHashes | null = null;
    try {
      allocate(cols, capacity);
      // duplicate rows: the rows' hashes are made as the rows arrive, while DuckDB parses (see
      // hasRepeatedRow), and compared at the end
      if ((schema.duplicate_rows ?? 'warning') !== 'allow') rowHashes = new RowHashes(cols, capacity);
    } catch (e) {
      void opening.then((i) => i.closeSync()).catch(() => null);
      throw e;
    }

    let digest = '';
    let nRows = 0;
    let nBytes = 0;
    const instance = await opening;
    const con = await instance.connect();
    try {
      // DuckDB's threads parse ahead into the streaming buffer while this thread copies chunks: at
      // 8 MB they stalled on the full buffer (the 1M-row bench read took 3.2-3.4 s, 2.3-2.5 s at 32
      // MB; 64 MB was no faster and ~40 MB bigger)
      await con.run(`SET streaming_buffer_size = '32MB'`);
      const types: string[] = header.map(() => 'VARCHAR');
      let t = 0;
      for (const c of cols) {
        const k = index.get(c.spec.name)!;
        if (c.kind === 'f64') types[k] = 'DOUBLE';
        else if (c.kind === 'enum') {
          const name = `keel_enum_${t++}`;
          await con.run(`CREATE TYPE ${name} AS ENUM (${c.allowed!.map(sqlString).join(', ')})`);
          types[k] = name;
        }
      }
      // the missing texts, and blank cells of one or two spaces (or a tab), which the strict reader
      // trims to the empty string: missing too (DuckDB would refuse them as numbers)
      const allNull = [...missingList, ' ', '  ', ...(delimiter === '\t' ? [] : ['\t'])];
      // DuckDB compares every cell with every nullstr text (10 texts for an inferred schema cost
      // ~25% of its parse). A text that is nowhere in the file's bytes cannot be a cell, so DuckDB
      // is given the empty string and the texts found in the first chunk; the scan searches every
      // chunk for the others, and when one occurs (or the read fails and one occurs in the file)
      // the read starts over with all of them: the result is always the one with all the texts.
      const nullstr = allMissingTexts ? allNull : allNull.filter((t) => t === '' || first.indexOf(t) >= 0);
      const absent = allNull.filter((t) => !nullstr.includes(t));
      const absentFound = textFinder(absent);
      const columns = `{${header.map((h, k) => `${sqlString(h)}: ${sqlString(types[k])}`).join(', ')}}`;
      const sql = `SELECT ${cols.map((c) => sqlIdent(c.spec.name)).join(', ')} FROM read_csv(${sqlString(path)}, header = true, delim = ${sqlString(delimiter)}, quote = '"', escape = '"', auto_detect = false, strict_mode = true, compression = 'none', buffer_size = ${2 << 20}, nullstr = [${nullstr.map(sqlString).join(', ')}], columns = ${columns})`;
      let failed: unknown = null;
      // DuckDB plans the query and parses up to its streaming buffer before the result comes back
      // (60-250 ms for the 1M bench file): the scan starts meanwhile, and the first error may come here
      const streaming = con.stream(sql);
      // the JS thread: hash and check the bytes while DuckDB parses (yielding between chunks)
      const hash = hashStart;
      let total = 0;
      const scan = async () => {
        let utf8Carry: Buffer | null = null;
        let lineCarry: Buffer | null = null;
        let c = first;
        let isFirst = true;
        for (;;) {
          total += c.length;
          hash.update(c);
          if (c.indexOf(34) >= 0) giveUp('quotes');
          if (absent.length && absentFound(c)) throw new AllMissingTexts();
          const u: Buffer = utf8Carry ? Buffer.concat([utf8Carry, c]) : c;
          const cut = utf8Cut(u);
          if (!isUtf8(u.subarray(0, cut))) giveUp('invalid UTF-8');
          utf8Carry = cut < u.length ? Buffer.from(u.subarray(cut)) : null;
          // whole lines: the carried partial line + this chunk up to its last LF
          const lastNl = c.lastIndexOf(10);
          const bodyStart = isFirst ? nl + 1 : 0;
          if (lastNl >= 0) {
            if (lineCarry) {
              const firstNl = c.indexOf(10);
              checkLines(Buffer.concat([lineCarry, c.subarray(0, firstNl + 1)]), numericField, delim);
              checkLines(c.subarray(firstNl + 1, lastNl + 1), numericField, delim);
            } else checkLines(c.subarray(bodyStart, lastNl + 1), numericField, delim);
            lineCarry = lastNl + 1 < c.length ? Buffer.from(c.subarray(lastNl + 1)) : null;
          } else lineCarry = lineCarry ? Buffer.concat([lineCarry, c]) : Buffer.from(c.subarray(bodyStart));
          isFirst = false;
          await new Promise((r) => setImmediate(r));
          if (failed) return;
          n = readSync(fd, buf, 0, SCAN_CHUNK, null);
          if (n === 0) break;
          c = buf.subarray(0, n);
        }
        if (utf8Carry) giveUp('invalid UTF-8');
        if (lineCarry) {
          // the last line, without a line feed
          const end = Buffer.concat([lineCarry, Buffer.from([10])]);
          checkLines(end, numericField, delim);
        }
      };

      let rows = 0;
      let spent = 0;
      // DuckDB parses mostly inside fetch calls (on a libuv thread; its own thread does ~a quarter),
      // so the next chunk is asked for before this one is copied: one fetch is always in flight
      // (never two: they would race for the result, and chunks could come out of order)
      let pending: Promise<unknown> | null = null;
      // the byte width of each column's items (0 until known, and for text)
      const widths = new Int32Array(cols.length);
      const read = async () => {
        const result = await streaming;
        let next = result.fetchChunk();
        pending = next;
        for (;;) {
          const chunk = await next;
          if (!chunk || chunk.rowCount === 0 || failed) break;
          next = result.fetchChunk();
          pending = next;
          const m = chunk.rowCount;
          for (let j = 0; j < cols.length; j++) {
            const c = cols[j];
            // numbers and codes straight from the bindings once their width is known (from the
            // first chunk's node-api vector); text through node-api, which reads the strings
            const width = widths[j];
            let vector: unknown;
            if (width > 0) vector = bareVector(chunk.chunk, j, m, width);
            else {
              vector = chunk.getColumnVector(j);
              const items = (vector as RawVector).items;
              if (c.kind !== 'text' && items) widths[j] = items.BYTES_PER_ELEMENT;
            }
            copyVector(c, vector, rows, m, missing);
          }
          rowHashes?.add(rows, m);
          rows += m;
          if (++spent % 16 === 0) youngGc();
        }
      };
      const fail = (e: unknown) => {
        failed ??= e;
        con.interrupt();
      };
      await Promise.all([scan().catch(fail), read().catch(fail)]);
      // the connection is closed only once no fetch runs on it
      await (pending as Promise<unknown> | null)?.catch(() => null);
      // a failed read may be a missing text DuckDB was not given (e.g. NA in a number column)
      if (failed && !(failed instanceof AllMissingTexts) && absent.length && fileHasAny(fd, absent))
        throw new AllMissingTexts();
      if (failed) throw failed;
      if (rows === 0) giveUp('no rows');
      if (total !== size) giveUp('the file changed size');
      digest = hash.digest('hex');
      nRows = rows;
      nBytes = total;
    } finally {
      con.closeSync();
      instance.closeSync();
    }
    // DuckDB is closed (its buffers freed) before the checks on the whole columns
    return finish(path, schema, header, cols, nRows, nBytes, digest, options, rowHashes);
  } finally {
    closeSync(fd);
  }
}

/**
 * The columns' arrays for about `capacity` rows (they grow when the file has more). Numbers are in
 * shared memory, so that worker threads read them in place (profileFrameParallel).
 */
function allocate(cols: Col[], capacity: number): void {
  for (const c of cols) {
    if (c.kind === 'f64' || c.type === 'boolean' || c.type === 'datetime')
      c.num = new Growable((k) => new Float64Array(new SharedArrayBuffer(k * 8)), capacity);
    else if (c.type === 'category') {
      c.codes = new Growable((k) => new Int32Array(k), capacity);
      c.dict = c.allowed ? [...c.allowed] : [];
      c.codeOf = new Map(c.dict.map((d, i) => [d, i]));
    } else c.strs = [];
  }
}

/**
 * A young-generation GC, every 16 chunks of the read. DuckDB's chunks (~400 KB each here) are
 * freed by their node-api wrappers' finalizers, which run after a GC, and V8 does not count that
 * memory: the read allocates little JS, so without this hundreds of spent chunks wait for the next
 * GC (~70 MB of peak RSS on 1M rows x 24). V8's gc() is reached through --expose-gc set at run
 * time (as the process flag would); when that is refused, nothing is done.
 */
type GcFn = (options: { type: 'minor' }) => void;
let gcFn: GcFn | null | undefined;
function youngGc(): void {
  if (gcFn === undefined) {
    gcFn = null;
    try {
      const g = (globalThis as { gc?: unknown }).gc;
      if (typeof g === 'function') gcFn = g as GcFn;
      else {
        setFlagsFromString('--expose-gc');
        const h = runInNewContext('gc');
        if (typeof h === 'function') gcFn = h as GcFn;
      }
    } catch {
      gcFn = null;
    }
  }
  gcFn?.({ type: 'minor' });
}

function countLf(b: Buffer, from: number): number {
  let k = 0;
  for (let i = b.indexOf(10, from); i >= 0; i = b.indexOf(10, i + 1)) k++;
  return k;
}

interface RawVector {
  items?: Float64Array | Uint8Array | Uint16Array | Uint32Array;
  validity?: { data: BigUint64Array | Uint8Array | null };
  dataView?: DataView;
  getItem(i: number): unknown;
}

/**
 * A chunk's column j as the copy functions read it (items and validity), from DuckDB's C API
 * bindings directly: node-api's getColumnVector builds a logical type (for an ENUM, its whole
 * dictionary) and several wrappers per vector, ~0.4 s of CPU over the 1M-row bench file's 12,000
 * vectors; this is two views on DuckDB's memory. The chunk (and so its memory) lives on while the
 * caller copies.
 */
function bareVector(chunk: DataChunk, j: number, m: number, width: number): RawVector {
  const v = bindings.data_chunk_get_vector(chunk, j);
  const data = bindings.vector_get_data(v, m * width);
  const validity = bindings.vector_get_validity(v, Math.ceil(m / 64) * 8) ?? null;
  const items =
    width === 8
      ? new Float64Array(data.buffer, data.byteOffset, m)
      : width === 4
        ? new Uint32Array(data.buffer, data.byteOffset, m)
        : width === 2
          ? new Uint16Array(data.buffer, data.byteOffset, m)
          : data.subarray(0, m);
  return { items, validity: { data: validity }, getItem: () => giveUp('a bare vector has no items') };
}

const decoder = new TextDecoder();

/** The validity words of a vector (bit i of word i >> 5 clear: row i is missing), or null when all are valid. */
function validityOf(v: RawVector, m: number): Int32Array | null {
  const bits = v.validity?.data ?? null;
  if (!bits) return null;
  const w = new Int32Array(bits.buffer, bits.byteOffset, Math.ceil(m / 32));
  const full = m >>> 5;
  for (let i = 0; i < full; i++) if (w[i] !== -1) return w;
  // the last word's bits past m are not rows
  if (full < w.length && (w[full] | (-1 << (m & 31))) !== -1) return w;
  return null;
}

/** Write `none` where rows are missing; returns how many are. */
function markMissing(
  valid: Int32Array,
  o: Float64Array | Int32Array,
  row: number,
  m: number,
  none: number,
): number {
  let nulls = 0;
  for (let w = 0; w < valid.length; w++) {
    const x = valid[w];
    if (x === -1) continue;
    for (let b = 0; b < 32; b++) {
      const i = (w << 5) + b;
      if (i < m && ((x >>> b) & 1) === 0) {
        o[row + i] = none;
        nulls++;
      }
    }
  }
  return nulls;
}

/** Copy one vector of m rows into the column at `row`, checking its values. */
function copyVector(c: Col, vector: unknown, row: number, m: number, missing: Set<string>): void {
  const v = vector as RawVector;
  if (c.kind === 'f64') copyDoubles(c, v, row, m);
  else if (c.kind === 'enum') copyEnum(c, v, row, m);
  else copyText(c, v, row, m, missing);
}

function copyDoubles(c: Col, v: RawVector, row: number, m: number): void {
  const name = c.spec.name;
  const items = v.items;
  if (!(items instanceof Float64Array) || items.length !== m) giveUp(`${name}: not a DOUBLE vector`);
  const out = c.num!;
  out.ensure(row + m);
  const o = out.data;
  o.set(items, row);
  const valid = validityOf(v, m);
  const nulls = valid ? markMissing(valid, o, row, m, Number.NaN) : 0;
  if (nulls > 0 && c.noMissing) giveUp(`${name}: missing`);
  c.nMissing += nulls;
  const lo = c.min;
  const hi = c.max;
  const end0 = row + m;
  if (nulls === 0 && !c.isInt && lo === Number.NEGATIVE_INFINITY && hi === Number.POSITIVE_INFINITY) {
    // only finiteness to check: x * 0 is 0 for a finite x and NaN for NaN and the infinities
    let acc = 0;
    for (let i = row; i < end0; i++) acc += o[i] * 0;
    if (acc !== 0) giveUp(`${name}: NaN or an infinity`);
    return;
  }
  let nan = 0;
  let bad = false;
  const end = row + m;
  if (c.isInt) {
    for (let i = row; i < end; i++) {
      const x = o[i];
      if (Number.isNaN(x)) nan++;
      else if (!(x >= lo && x <= hi) || Math.floor(x) !== x) bad = true;
    }
  } else
    for (let i = row; i < end; i++) {
      const x = o[i];
      if (Number.isNaN(x)) nan++;
      else if (!(x >= lo && x <= hi) || x - x !== 0) bad = true;
    }
  if (bad) giveUp(`${name}: a value out of bounds, infinite or not an integer`);
  if (nan !== nulls) giveUp(`${name}: NaN`);
}

function copyEnum(c: Col, v: RawVector, row: number, m: number): void {
  const name = c.spec.name;
  const items = v.items;
  if (!(items instanceof Uint8Array || items instanceof Uint16Array || items instanceof Uint32Array))
    giveUp(`${name}: not an ENUM vector`);
  const out = c.codes!;
  out.ensure(row + m);
  const o = out.data;
  if (items instanceof Uint8Array) for (let i = 0; i < m; i++) o[row + i] = items[i];
  else o.set(items.subarray(0, m), row);
  const valid = validityOf(v, m);
  if (valid) {
    const nulls = markMissing(valid, o, row, m, -1);
    if (nulls > 0 && c.noMissing) giveUp(`${name}: missing`);
    c.nMissing += nulls;
  }
}

function copyText(c: Col, v: RawVector, row: number, m: number, missing: Set<string>): void {
  const name = c.spec.name;
  const valid = validityOf(v, m);
  const isNull = (i: number) => valid !== null && ((valid[i >>> 5] >>> (i & 31)) & 1) === 0;
  // text: each cell as the strict reader types it
  const dv = v.dataView;
  if (!(dv instanceof DataView)) giveUp(`${name}: not a VARCHAR vector`);
  const view = dv as DataView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let i = 0; i < m; i++) {
    const at = row + i;
    let raw: string | null = null;
    if (!isNull(i)) {
      const len = view.getUint32(i * 16, true);
      raw = len <= 12 ? decoder.decode(bytes.subarray(i * 16 + 4, i * 16 + 4 + len)) : String(v.getItem(i));
    }
    const t = raw === null ? '' : raw.trim();
    if (raw === null || missing.has(t)) {
      if (c.noMissing) giveUp(`${name}: missing`);
      c.nMissing++;
      if (c.num) {
        c.num.ensure(at + 1);
        c.num.data[at] = Number.NaN;
      } else if (c.codes) {
        c.codes.ensure(at + 1);
        c.codes.data[at] = -1;
      } else c.strs![at] = null;
      continue;
    }
    if (c.type === 'boolean' || c.type === 'datetime') {
      let x: number;
      if (c.type === 'datetime') x = parseDatetime(t);
      else {
        const l = t.toLowerCase();
        x = TRUE.has(l) ? 1 : FALSE.has(l) ? 0 : Number.NaN;
      }
      if (Number.isNaN(x) || x < c.min || x > c.max) giveUp(`${name}: not ${c.type} or out of bounds`);
      c.num!.ensure(at + 1);
      c.num!.data[at] = x;
    } else if (c.type === 'category') {
      let code = c.codeOf!.get(t);
      if (code === undefined) {
        code = c.dict!.length;
        c.dict!.push(t);
        c.codeOf!.set(t, code);
      }
      c.codes!.ensure(at + 1);
      c.codes!.data[at] = code;
    } else c.strs![at] = raw;
  }
}

function finish(
  path: string,
  schema: Schema,
  header: string[],
  cols: Col[],
  rows: number,
  bytes: number,
  sha256: string,
  options: FastCsvOptions,
  rowHashes: RowHashes | null,
): FastCsvResult {
  const names: string[] = [];
  const columns: Column[] = [];
  for (const c of cols) {
    names.push(c.spec.name);
    if (c.num) columns.push({ kind: 'numeric', values: c.num.done(rows) });
    else if (c.codes) {
      columns.push(categoricalOf(c.codes.done(rows), c.dict!, c.allowed !== undefined));
    } else {
      const v = c.strs!;
      v.length = rows;
      columns.push({ kind: 'string', values: v });
    }
  }
  // unique columns and duplicate rows: any repeat goes to the strict reader for its report
  cols.forEach((c, j) => {
    if (!c.spec.unique) return;
    const col = columns[j];
    if (col.kind === 'string') {
      const seen = new Set<string>();
      for (const s of col.values)
        if (s !== null) {
          if (seen.has(s)) giveUp(`${c.spec.name}: not unique`);
          seen.add(s);
        }
    } else {
      const seen = new Set<number>();
      const a = col.kind === 'numeric' ? col.values : col.codes;
      const none = col.kind === 'numeric' ? Number.NaN : -1;
      for (let r = 0; r < rows; r++) {
        const x = a[r];
        if (Number.isNaN(x) || x === none) continue;
        if (seen.has(x)) giveUp(`${c.spec.name}: not unique`);
        seen.add(x);
      }
    }
  });
  if (
    (schema.duplicate_rows ?? 'warning') !== 'allow' &&
    hasDuplicateRows(
      columns,
      rows,
      rowHashes,
      cols.map((c) => c.hashes?.data),
    )
  )
    giveUp('duplicate rows');
  const target = schema.target;
  if (target) {
    const c = columns[names.indexOf(target.column)];
    if (c.kind !== 'categorical') giveUp('target not categorical');
    const seen = new Uint8Array(target.classes.length);
    const codes = (c as { codes: Int32Array }).codes;
    for (let r = 0; r < rows; r++) if (codes[r] >= 0) seen[codes[r]] = 1;
    if (seen.some((s) => s === 0)) giveUp('absent target classes');
  }
  if (schema.rows?.min !== undefined && rows < schema.rows.min) giveUp('row count');
  if (schema.rows?.max !== undefined && rows > schema.rows.max) giveUp('row count');

  // the warnings of a clean file, in the strict reader's order
  const violations: Violation[] = [];
  const warn = (rule: string, column: string | null, message: string): Violation => ({
    rule,
    column,
    severity: 'warning',
    count: 1,
    rows: [],
    examples: [],
    message,
    quarantined: false,
  });
  const declared = new Set(schema.columns.map((c) => c.name));
  for (const h of header)
    if (!declared.has(h))
      violations.push(warn('unexpected_column', h, `column "${h}" is not in the schema and is ignored`));
  if (header.every((h) => NUMBER_RE.test(h)))
    violations.push(
      warn(
        'header_numbers',
        null,
        'every header name is a number: if the first line is data, read the file without a header (--no-header)',
      ),
    );
  for (const c of cols)
    if (c.nMissing === rows)
      violations.push(warn('all_missing', c.spec.name, `"${c.spec.name}" is missing in every row`));
  const report: ValidationReport = {
    file: path,
    ok: true,
    rows,
    kept: rows,
    quarantined: 0,
    columns: header.length,
    violations,
  };
  if (options.quarantineFile)
    writeFileSync(options.quarantineFile, quarantineLine([...header, '_keel_line', '_keel_reason']));
  return {
    ok: true,
    frame: new Frame(names, columns),
    report,
    quarantine: { header: [...header], rows: [], lines: [], reasons: [] },
    bytes,
    sha256,
  };
}

/** The 32-bit hash of a text (or -1 for null) that duplicate-row checks compare strings by. */
function textHash(t: string | null): number {
  if (t === null) return -1;
  let x = 0x811c9dc5 ^ t.length;
  for (let i = 0; i < t.length; i++) x = Math.imul(x ^ t.charCodeAt(i), 0x01000193);
  return x;
}

/*
 * Duplicate rows, found by value. Each column is given as 32-bit words: numbers by their bits (two
 * words a row, `wide`; missing numbers are all the same NaN, and -0 is not 0, as "-0" is not "0"
 * for the strict reader), codes as they are, strings by textHash (rows equal in every word are
 * then compared by their strings). Equal texts give equal values, so no repeat here means no
 * repeat for the strict reader either.
 *
 * Each row gets a 32-bit hash of a few key columns (numeric ones first: they tell rows apart
 * best), made as the rows arrive (a sequential pass over each key column's new rows). At the end
 * the hashes are put in 2048 buckets by their top bits (one sequential pass), and a small
 * open-addressing table per bucket, which stays in cache, finds the hashes that occur more than
 * once (probing one table of a million rows instead cost a cache miss a row); only rows with equal
 * hashes are compared in every column (~120 pairs in 1M rows of distinct values). When the key
 * columns tell rows apart badly (many equal hashes), the hashes are made again over every column;
 * a run of more than two equal hashes is sorted by value, so a repeat ends up next to its row.
 */

/** The columns a row's hash is first made of: numeric ones first, up to 8 words. */
function keyColumns(wide: boolean[]): number[] {
  const keys: number[] = [];
  let nWords = 0;
  for (const w of [true, false])
    wide.forEach((x, k) => {
      if (x === w && nWords < 8) {
        keys.push(k);
        nWords += x ? 2 : 1;
      }
    });
  return keys;
}

/** Set hs[from..to-1] to the hashes of those rows over the columns `keys` of `words`. */
export function hashRows(
  words: Int32Array[],
  wide: boolean[],
  keys: number[],
  hs: Int32Array,
  from: number,
  to: number,
): void {
  hs.fill(0x2545f491, from, to);
  // a column at a time: sequential passes; the shift brings high bits (the sign) down
  for (const k of keys) {
    const w = words[k];
    if (wide[k])
      for (let r = from; r < to; r++) {
        let h = Math.imul(hs[r] ^ w[2 * r], 0x5bd1e995);
        h ^= h >>> 15;
        h = Math.imul(h ^ w[2 * r + 1], 0x5bd1e995);
        hs[r] = h ^ (h >>> 15);
      }
    else
      for (let r = from; r < to; r++) {
        const h = Math.imul(hs[r] ^ w[r], 0x5bd1e995);
        hs[r] = h ^ (h >>> 15);
      }
  }
}

/**
 * Rows a and b compared word by word over every column, then by the texts of the string columns
 * (so that a textHash collision is no repeat); 0: equal in every column.
 */
function compareRows(
  words: Int32Array[],
  wide: boolean[],
  texts: (readonly (string | null)[])[],
  a: number,
  b: number,
): number {
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    if (wide[k]) {
      const d = w[2 * a] - w[2 * b] || w[2 * a + 1] - w[2 * b + 1];
      if (d !== 0) return d;
    } else if (w[a] !== w[b]) return w[a] - w[b];
  }
  for (const t of texts) {
    const x = t[a];
    const y = t[b];
    if (x !== y) return x === null ? -1 : y === null || x > y ? 1 : -1;
  }
  return 0;
}

/** Rows are put in 2^11 buckets by the top bits of their hashes. */
const BUCKET_SHIFT = 21;
const BUCKETS = 1 << (32 - BUCKET_SHIFT);

/** Count hs[from..to-1] into their buckets. */
function countBuckets(hs: Int32Array, from: number, to: number, count: Int32Array): void {
  for (let r = from; r < to; r++) count[hs[r] >>> BUCKET_SHIFT]++;
}

/**
 * Whether two of rows 0..n-1 have equal words in every column and equal `texts` (the string
 * columns, whose words are textHash), given hashes hs that are equal for equal rows (over any
 * columns; see the comment above) and, optionally, the rows per bucket. `rehash`: when many hashes
 * are equal, make them again over every column first.
 */
export function hasRepeatedRow(
  words: Int32Array[],
  wide: boolean[],
  hs: Int32Array,
  n: number,
  count?: Int32Array,
  rehash = true,
  texts: (readonly (string | null)[])[] = [],
): boolean {
  if (!count) {
    count = new Int32Array(BUCKETS);
    countBuckets(hs, 0, n, count);
  }
  // the hashes by bucket (one sequential pass writing 2048 streams)
  const start = new Int32Array(BUCKETS + 1);
  let most = 0;
  for (let d = 0; d < BUCKETS; d++) {
    start[d + 1] = start[d] + count[d];
    most = Math.max(most, count[d]);
  }
  const at = start.slice(0, BUCKETS);
  const sorted = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const h = hs[r];
    sorted[at[h >>> BUCKET_SHIFT]++] = h;
  }
  // in each bucket, an open-addressing table of its hashes (small enough to stay in cache) finds
  // the hashes that occur more than once
  let size = 16;
  while (size < 2 * most) size *= 2;
  const table = new Int32Array(size);
  const repeated: number[] = [];
  let equal = 0;
  for (let d = 0; d < BUCKETS; d++) {
    const s = start[d];
    const e = start[d + 1];
    let z = 16;
    while (z < 2 * (e - s)) z *= 2;
    const mask = z - 1;
    table.fill(0, 0, z);
    for (let i = s; i < e; i++) {
      const h = sorted[i];
      // a slot holds 1 + the index in `sorted` of its hash (0: empty)
      for (let slot = h & mask; ; slot = (slot + 1) & mask) {
        const o = table[slot];
        if (o === 0) {
          table[slot] = i + 1;
          break;
        }
        if (sorted[o - 1] === h) {
          equal++;
          repeated.push(h);
          break;
        }
      }
    }
  }
  if (equal === 0) return false;
  // 32 bits give ~n^2/2^33 equal pairs by chance (116 at 1M rows, 11.6K at 10M)
  if (rehash && equal > Math.max(1024, n >>> 6)) {
    const all = new Int32Array(n);
    hashRows(
      words,
      wide,
      words.map((_, k) => k),
      all,
      0,
      n,
    );
    return hasRepeatedRow(words, wide, all, n, undefined, false, texts);
  }
  // the rows of the repeated hashes (a bitmap of their low bits passes few others to the set)
  const want = new Set(repeated);
  let bits = 1 << 16;
  while (bits < want.size * 64) bits *= 2;
  const bitmap = new Int32Array(bits >>> 5);
  const low = bits - 1;
  for (const h of want) bitmap[(h & low) >>> 5] |= 1 << (h & 31);
  const groups = new Map<number, number[]>();
  for (let r = 0; r < n; r++) {
    const h = hs[r];
    if (((bitmap[(h & low) >>> 5] >>> (h & 31)) & 1) === 0 || !want.has(h)) continue;
    const g = groups.get(h);
    if (g) g.push(r);
    else groups.set(h, [r]);
  }
  for (const g of groups.values()) {
    if (g.length === 2) {
      if (compareRows(words, wide, texts, g[0], g[1]) === 0) return true;
      continue;
    }
    // more than two: by value, so that equal rows are next to each other
    g.sort((a, b) => compareRows(words, wide, texts, a, b));
    for (let t = 1; t < g.length; t++) if (compareRows(words, wide, texts, g[t - 1], g[t]) === 0) return true;
  }
  return false;
}

/** The words of the columns' first `rows` rows (text columns by textHash, or the hashes given). */
function wordsOfColumns(
  columns: Column[],
  rows: number,
  textHashes: (Int32Array | undefined)[],
): { words: Int32Array[]; wide: boolean[] } {
  const words: Int32Array[] = [];
  const wide: boolean[] = [];
  columns.forEach((c, j) => {
    if (c.kind === 'numeric') {
      words.push(new Int32Array(c.values.buffer, c.values.byteOffset, rows * 2));
      wide.push(true);
    } else if (c.kind === 'categorical') {
      words.push(c.codes);
      wide.push(false);
    } else {
      words.push(textHashes[j] ?? Int32Array.from(c.values, textHash));
      wide.push(false);
    }
  });
  return { words, wide };
}

/** Whether two rows of the columns have equal values in every column. */
function hasDuplicateRows(
  columns: Column[],
  rows: number,
  hashes: RowHashes | null,
  textHashes: (Int32Array | undefined)[] = [],
): boolean {
  const { words, wide } = wordsOfColumns(columns, rows, textHashes);
  const texts = columns.flatMap((c) => (c.kind === 'string' ? [c.values] : []));
  if (hashes) return hasRepeatedRow(words, wide, hashes.hs.data, rows, hashes.count, true, texts);
  const hs = new Int32Array(rows);
  hashRows(words, wide, keyColumns(wide), hs, 0, rows);
  return hasRepeatedRow(words, wide, hs, rows, undefined, true, texts);
}

/** The rows' hashes over the key columns (and the text columns' textHash), made as chunks arrive. */
class RowHashes {
  readonly hs: Growable<Int32Array>;
  /** The rows per bucket of their hashes. */
  readonly count = new Int32Array(BUCKETS);
  private readonly wide: boolean[];
  private readonly keys: number[];
  private readonly words: Int32Array[];

  constructor(
    private readonly cols: Col[],
    capacity: number,
  ) {
    this.hs = new Growable((k) => new Int32Array(k), capacity);
    for (const c of cols) if (c.strs) c.hashes = new Growable((k) => new Int32Array(k), capacity);
    this.wide = cols.map((c) => c.num !== undefined);
    this.keys = keyColumns(this.wide);
    this.words = cols.map(() => new Int32Array(0));
  }

  /** Hash rows from..from+m-1 (copied into the columns). */
  add(from: number, m: number): void {
    const to = from + m;
    const words = this.words;
    this.cols.forEach((c, k) => {
      let data: Float64Array | Int32Array;
      if (c.num) data = c.num.data;
      else if (c.codes) data = c.codes.data;
      else {
        const h = c.hashes!;
        h.ensure(to);
        const strs = c.strs!;
        for (let r = from; r < to; r++) h.data[r] = textHash(strs[r] ?? null);
        data = h.data;
      }
      // a view of the column's array, made again when the array grew
      if (words[k].buffer !== data.buffer)
        words[k] =
          data instanceof Int32Array ? data : new Int32Array(data.buffer, data.byteOffset, data.length * 2);
    });
    this.hs.ensure(to);
    hashRows(words, this.wide, this.keys, this.hs.data, from, to);
    countBuckets(this.hs.data, from, to, this.count);
  }
}
