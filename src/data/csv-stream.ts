/**
 * The streaming CSV reader: the file's bytes are read in chunks (4 MiB), split into records by a
 * byte-level strict RFC 4180 tokenizer, and each record is typed and validated as it is read, so
 * the text of a file is never held whole. Only the kept rows' typed columns are kept (Float64Array
 * and Int32Array, outside the JS heap; string columns as JS strings), and quarantined rows can be
 * written to a file as they are found. Numbers are parsed from the bytes (no string per cell on
 * the common path); categories are looked up by their bytes.
 *
 * The rules are exactly those of csv.ts (quoting, CRLF, BOM, blank lines, header checks, ragged
 * rows, UTF-8) and validate.ts (types, ranges, allowed values, regex, length, missing, unique,
 * target class, duplicate rows, table-level rules), with the same messages, file lines and
 * violation order. One difference in kind: duplicate rows are found by a 96-bit hash of the
 * trimmed cells of the declared columns instead of by keeping every row's text (the odds of a
 * false match are about 1e-17 at a million rows).
 */

import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { KeelError } from '../core/errors.js';
import { checkHeader } from './csv.js';
import { boundText, parseDatetime } from './datetime.js';
import type { Column } from './frame.js';
import { Frame } from './frame.js';
import type { ColumnSpec, Schema } from './schema.js';
import {
  article,
  checkColumns,
  type Quarantine,
  type Severity,
  type ValidationReport,
  type Violation,
} from './validate.js';

const CHUNK = 4 << 20;
const MAX_SAMPLES = 10;
const TRUE = new Set(['true', 'yes', 'y', '1', 't']);
const FALSE = new Set(['false', 'no', 'n', '0', 'f']);
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A source of bytes: chunks in order, read once per call. */
export interface ByteSource {
  /** Total bytes when known (sizes the columns up front). */
  size?: number;
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The dataset's identity when it is not the sha256 of the bytes read (a glob of files). */
  sha256?: () => string;
}

/** A local file read in chunks with plain reads (no stream machinery). */
export function fileSource(path: string, size?: number): ByteSource {
  return {
    size,
    *chunks() {
      const fd = openSync(path, 'r');
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(CHUNK);
          const n = readSync(fd, buf, 0, CHUNK, null);
          if (n === 0) return;
          yield n === CHUNK ? buf : buf.subarray(0, n);
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Records of one buffer: fields as byte ranges (content only: quotes excluded). */
class Batch {
  buf: Buffer = Buffer.alloc(0);
  nRec = 0;
  recLine = new Int32Array(1024);
  recField = new Int32Array(1025);
  nField = 0;
  fs = new Int32Array(8192);
  fe = new Int32Array(8192);
  /** 0 plain, 1 quoted, 2 quoted with doubled quotes inside. */
  fq = new Uint8Array(8192);

  reset(buf: Buffer): void {
    this.buf = buf;
    this.nRec = 0;
    this.nField = 0;
    this.recField[0] = 0;
  }
  pushField(s: number, e: number, q: number): void {
    const i = this.nField;
    if (i < this.fs.length) {
      this.fs[i] = s;
      this.fe[i] = e;
      this.fq[i] = q;
      this.nField = i + 1;
      return;
    }
    {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.fs = grow(this.fs);
      this.fe = grow(this.fe);
      this.fq = grow(this.fq);
    }
    this.fs[i] = s;
    this.fe[i] = e;
    this.fq[i] = q;
    this.nField = i + 1;
  }
  pushRecord(line: number): void {
    const r = this.nRec;
    if (r + 1 >= this.recLine.length) {
      const a = new Int32Array(this.recLine.length * 2);
      a.set(this.recLine);
      this.recLine = a;
      const b = new Int32Array(this.recField.length * 2);
      b.set(this.recField);
      this.recField = b;
    }
    this.recLine[r] = line;
    this.nRec = r + 1;
    this.recField[r + 1] = this.nField;
  }
  text(f: number): string {
    const q = this.fq[f];
    const s = this.buf.toString('utf8', this.fs[f], this.fe[f]);
    return q === 2 ? s.replaceAll('""', '"') : s;
  }
}

/**
 * Split records off `buf` from `start`: returns the offset after the last complete record (the
 * rest is carried into the next chunk), or throws for a quote error. `final` when no more bytes come.
 */
class Tokenizer {
  line = 1;
  constructor(
    private readonly file: string,
    private readonly delim: number,
  ) {}

  run(b: Batch, start: number, final: boolean): number {
    const buf = b.buf;
    const n = buf.length;
    const delim = this.delim;
    let i = start;
    let line = this.line;
    while (i < n) {
      const recStart = i;
      const startLine = line;
      const f0 = b.nField;
      let incomplete = false;
      for (;;) {
        if (i < n && buf[i] === 34) {
          let j = i + 1;
          let esc = 0;
          for (;;) {
            if (j >= n) {
              if (final) {
                this.line = line;
                throw new KeelError(
                  'KEEL_E_PARSE',
                  `${this.file}: unterminated quoted field starting on line ${startLine}`,
                  { file: this.file, row: startLine },
                );
              }
              incomplete = true;
              break;
            }
            const c = buf[j];
            if (c === 34) {
              if (j + 1 >= n && !final) {
                incomplete = true;
                break;
              }
              if (buf[j + 1] === 34) {
                esc = 1;
                j += 2;
                continue;
              }
              break;
            }
            if (c === 10) line++;
            j++;
          }
          if (incomplete) break;
          b.pushField(i + 1, j, 1 + esc);
          i = j + 1;
          if (i < n) {
            const c = buf[i];
            if (c !== delim && c !== 10 && c !== 13)
              throw new KeelError(
                'KEEL_E_PARSE',
                `${this.file}: unexpected text after a closing quote on line ${line}`,
                { file: this.file, row: line },
              );
          }
        } else {
          let j = i;
          while (j < n) {
            const c = buf[j];
            if (c === delim || c === 10 || c === 13) break;
            j++;
          }
          b.pushField(i, j, 0);
          i = j;
        }
        if (i < n && buf[i] === delim) {
          i++;
          continue;
        }
        if (i >= n && !final) {
          incomplete = true;
          break;
        }
        if (i < n && buf[i] === 13) {
          i++;
          if (i >= n && !final) {
            incomplete = true;
            break;
          }
        }
        if (i < n && buf[i] === 10) i++;
        line++;
        break;
      }
      if (incomplete) {
        b.nField = f0;
        this.line = startLine;
        return recStart;
      }
      // a blank line: one empty field
      if (b.nField - f0 === 1 && b.fe[f0] === b.fs[f0]) {
        b.nField = f0;
        continue;
      }
      b.pushRecord(startLine);
    }
    this.line = line;
    return n;
  }
}

function firstInvalidUtf8(
  bytes: Buffer,
  lineAtStart: number,
  offsetAtStart: number,
): { line: number; offset: number } {
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (isUtf8(bytes.subarray(0, mid + 1)) || incompleteTail(bytes.subarray(0, mid + 1))) lo = mid + 1;
    else hi = mid;
  }
  // lo is the first byte that cannot continue; point at the start of the character it breaks
  let at = lo;
  for (let back = 1; back <= 3 && lo - back >= 0; back++) {
    const c = bytes[lo - back];
    if ((c & 0xc0) === 0x80) continue;
    if (c >= 0xc2 && c <= 0xf4) at = lo - back;
    break;
  }
  let line = lineAtStart;
  for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
  return { line, offset: offsetAtStart + at };
}

/** A valid prefix cut inside a multi-byte character (valid once more bytes come). */
function incompleteTail(b: Buffer): boolean {
  for (let back = 1; back <= 3 && back <= b.length; back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue;
    if (c < 0xc2 || c > 0xf4) return false; // not a lead byte of any valid sequence
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return need > back && isUtf8(b.subarray(0, b.length - back));
  }
  return false;
}

class Collector {
  /** Per column (schema order): the rules in first-seen order, then unique, then all_missing. */
  readonly main: Map<string, Violation>[];
  readonly uniq: (Violation | undefined)[];
  readonly head = new Map<string, Violation>();
  readonly tail = new Map<string, Violation>();
  constructor(nCols: number) {
    this.main = Array.from({ length: nCols }, () => new Map());
    this.uniq = new Array(nCols);
  }
  private bump(v: Violation, line?: number, example?: string): void {
    v.count++;
    if (line !== undefined && v.rows.length < MAX_SAMPLES) v.rows.push(line);
    if (example !== undefined && v.examples.length < MAX_SAMPLES) {
      const e = example.length > 80 ? `${example.slice(0, 80)}…` : example;
      if (!v.examples.includes(e)) v.examples.push(e);
    }
  }
  add(
    where: Map<string, Violation>,
    rule: string,
    column: string | null,
    severity: Severity,
    message: string,
    line?: number,
    example?: string,
    quarantined = false,
  ): Violation {
    let v = where.get(rule);
    if (!v) {
      v = { rule, column, severity, count: 0, rows: [], examples: [], message, quarantined };
      where.set(rule, v);
    }
    this.bump(v, line, example);
    return v;
  }
  unique(k: number, column: string, line: number, example: string): void {
    let v = this.uniq[k];
    if (!v) {
      v = {
        rule: 'unique',
        column,
        severity: 'warning',
        count: 0,
        rows: [],
        examples: [],
        message: `"${column}" must be unique`,
        quarantined: true,
      };
      this.uniq[k] = v;
    }
    this.bump(v, line, example);
  }
  all(allMissing: (Violation | undefined)[]): Violation[] {
    const out = [...this.head.values()];
    this.main.forEach((m, k) => {
      out.push(...m.values());
      const u = this.uniq[k];
      if (u) out.push(u);
      const a = allMissing[k];
      if (a) out.push(a);
    });
    out.push(...this.tail.values());
    return out;
  }
}

function reasonText(column: string | null, rule: string, raw?: string): string {
  const shown = raw === undefined ? '' : ` ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)}`;
  return `${column ? `${column}: ` : ''}${rule}${shown}`;
}

/** Byte strings to codes: an open-addressing table over the bytes, so no string per cell. */
class ByteDict {
  private pool = new Uint8Array(1024);
  private used = 0;
  private starts: number[] = [];
  private lens: number[] = [];
  private codes: number[] = [];
  private table = new Int32Array(256);
  private mask = 255;

  private static hash(buf: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5 ^ (e - s);
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }
  get(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    let slot = ByteDict.hash(buf, s, e) & this.mask;
    for (;;) {
      const id = this.table[slot];
      if (id === 0) return -1;
      const k = id - 1;
      if (this.lens[k] === len) {
        const p = this.starts[k];
        let same = true;
        for (let i = 0; i < len; i++)
          if (this.pool[p + i] !== buf[s + i]) {
            same = false;
            break;
          }
        if (same) return this.codes[k];
      }
      slot = (slot + 1) & this.mask;
    }
  }
  set(buf: Uint8Array, s: number, e: number, code: number): void {
    if (this.codes.length > 4096) return; // a bounded cache: many distinct texts take the string path
    const len = e - s;
    if (this.used + len > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.used + len));
      p.set(this.pool);
      this.pool = p;
    }
    this.pool.set(buf.subarray(s, e), this.used);
    this.starts.push(this.used);
    this.lens.push(len);
    this.codes.push(code);
    this.used += len;
    if (this.codes.length * 2 > this.table.length) {
      this.table = new Int32Array(this.table.length * 2);
      this.mask = this.table.length - 1;
      for (let k = 0; k < this.codes.length; k++)
        this.insert(this.pool, this.starts[k], this.starts[k] + this.lens[k], k);
    } else this.insert(buf, s, e, this.codes.length - 1);
  }
  private insert(buf: Uint8Array, s: number, e: number, k: number): void {
    let slot = ByteDict.hash(buf, s, e) & this.mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & this.mask;
    this.table[slot] = k + 1;
  }
}

/** A set of 96-bit row hashes: open addressing over one Int32Array, four words a slot (one cache line). */
class RowHashSet {
  private t = new Int32Array(4 << 16);
  private slots = 1 << 16;
  private size = 0;
  /** Adds the hash; false when it was already there. */
  add(h1: number, h2: number, h3: number): boolean {
    if ((this.size + 1) * 2 > this.slots) this.grow();
    const t = this.t;
    const mask = this.slots - 1;
    let slot = h1 & mask;
    for (;;) {
      const o = slot << 2;
      if (t[o + 3] === 0) {
        t[o] = h1;
        t[o + 1] = h2;
        t[o + 2] = h3;
        t[o + 3] = 1;
        this.size++;
        return true;
      }
      if (t[o] === h1 && t[o + 1] === h2 && t[o + 2] === h3) return false;
      slot = (slot + 1) & mask;
    }
  }
  private grow(): void {
    const old = this.t;
    this.slots *= 2;
    this.t = new Int32Array(this.slots * 4);
    this.size = 0;
    for (let o = 0; o < old.length; o += 4) if (old[o + 3] !== 0) this.add(old[o], old[o + 1], old[o + 2]);
  }
}

/** A growable typed column of the kept rows. */
/**
 * A category column from its codes (in the order categories were first seen) and dictionary.
 * Without a fixed list of allowed values the dictionary is sorted and the codes remapped to it,
 * so the codes do not depend on the order of the rows; a fixed list keeps its own order.
 */
export function categoricalOf(codes: Int32Array, dict: string[], fixed: boolean): Column {
  if (fixed) return { kind: 'categorical', codes, categories: dict };
  const sorted = [...dict].sort();
  const rank = new Map(sorted.map((c, i) => [c, i]));
  const remap = Int32Array.from(dict, (c) => rank.get(c)!);
  for (let r = 0; r < codes.length; r++) if (codes[r] >= 0) codes[r] = remap[codes[r]];
  return { kind: 'categorical', codes, categories: sorted };
}

export class Growable<T extends Float64Array | Int32Array> {
  data: T;
  constructor(
    private readonly make: (n: number) => T,
    capacity: number,
  ) {
    this.data = make(Math.max(16, capacity));
  }
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, Math.ceil(this.data.length * 1.5)));
    next.set(this.data);
    this.data = next;
  }
  /** The first n values; copied to a right-sized array when more than a tenth is slack. */
  done(n: number): T {
    if (this.data.length - n > this.data.length / 10) return this.data.slice(0, n) as T;
    return this.data.subarray(0, n) as T;
  }
}

interface ColState {
  spec: ColumnSpec;
  /** Field index in the file's header. */
  k: number;
  kind: 'number' | 'boolean' | 'datetime' | 'category' | 'string';
  isTarget: boolean;
  fast: boolean;
  re: RegExp | null;
  nMissing: number;
  num?: Growable<Float64Array>;
  codes?: Growable<Int32Array>;
  strs?: (string | null)[];
  dict?: string[];
  codeOf?: Map<string, number>;
  bytes?: ByteDict;
  allowed?: readonly string[];
  uniqNum?: Set<number>;
  uniqStr?: Set<string>;
  isInt: boolean;
  /** spec.min and spec.max, or -Infinity and Infinity. */
  min: number;
  max: number;
}

export interface StreamOptions {
  delimiter?: string;
  /** false: the file has no header line; its columns are the schema's, in the schema's order. */
  header?: boolean;
  /** Write quarantined rows here as they are found (CSV with _keel_line and _keel_reason); they are then not kept in memory. */
  quarantineFile?: string;
  /** Called with each header and batch of records before typing (schema inference). */
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One quarantine CSV line: the row's cells as read, its file line and its reasons. */
export function quarantineLine(cells: readonly string[], line?: number, reason?: string): string {
  const all = line === undefined ? [...cells] : [...cells, String(line), reason ?? ''];
  return `${all.map(csvCell).join(',')}\n`;
}

export interface StreamedCsv {
  frame: Frame;
  report: ValidationReport;
  quarantine: Quarantine;
  bytes: number;
}

/**
 * Walk a CSV source record by record: header checks, then `onBatch` with each batch of data
 * records (field counts checked). Shared by typing and schema inference.
 */
export async function scanCsv(
  source: ByteSource,
  file: string,
  delimiter: string,
  onHeader: (header: string[]) => void,
  onBatch: (b: Batch, firstDataRow: number) => void,
  /** The file has no header line: the columns are named these (or column_1, column_2, …). */
  noHeader: { names?: readonly string[] } | null = null,
): Promise<{ bytes: number; rows: number }> {
  const tok = new Tokenizer(file, delimiter.charCodeAt(0));
  const batch = new Batch();
  let header: string[] | null = null;
  let carry: Buffer | null = null;
  let total = 0;
  let dataRows = 0;
  let first = true;
  let lineAtCarry = 1;
  let offsetAtCarry = 0;
  const handle = (buf: Buffer, final: boolean): Buffer | null => {
    batch.reset(buf);
    let start = 0;
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
    if (first && !final && buf.length < 3) return buf;
    first = false;
    const lineBefore = tok.line;
    let end: number;
    try {
      end = tok.run(batch, start, final);
    } catch (e) {
      checkUtf8(buf, lineBefore);
      throw e;
    }
    checkUtf8(buf.subarray(0, end), lineBefore);
    let r0 = 0;
    if (header === null && batch.nRec > 0 && noHeader) {
      const width = batch.recField[1] - batch.recField[0];
      header = noHeader.names
        ? [...noHeader.names]
        : Array.from({ length: width }, (_, k) => `column_${k + 1}`);
      onHeader(header);
    } else if (header === null && batch.nRec > 0) {
      header = [];
      for (let f = batch.recField[0]; f < batch.recField[1]; f++) header.push(batch.text(f).trim());
      checkHeader(header, file, delimiter);
      onHeader(header);
      r0 = 1;
    }
    if (header !== null) {
      const width = header.length;
      for (let r = r0; r < batch.nRec; r++) {
        const got = batch.recField[r + 1] - batch.recField[r];
        if (got !== width) {
          const row = dataRows + r - r0 + 1;
          const short = got < width;
          const column = short ? header[got] : undefined;
          throw new KeelError(
            'KEEL_E_PARSE',
            `${file}: line ${batch.recLine[r]} (data row ${row}) has ${got} fields, the header has ${width}${short ? ` (no value for column "${column}")` : ''}`,
            { file, row: batch.recLine[r], column },
          );
        }
      }
      if (batch.nRec > r0) {
        onBatch(batch.nRec === 0 ? batch : batch, r0);
        dataRows += batch.nRec - r0;
      }
    }
    offsetAtCarry += end;
    lineAtCarry = tok.line;
    return end < buf.length ? buf.subarray(end) : null;
  };
  const checkUtf8 = (bytes: Buffer, line: number) => {
    if (!isUtf8(bytes)) {
      const at = firstInvalidUtf8(bytes, line, offsetAtCarry);
      throw new KeelError('KEEL_E_PARSE', `${file} is not valid UTF-8 (line ${at.line}, byte ${at.offset})`, {
        file,
        row: at.line,
      });
    }
  };
  let pendingNeed = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source.chunks()) {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += c.length;
    if (c.length === 0) continue;
    // a record longer than a chunk: gather at least as many new bytes as carried before rescanning
    pending.push(c);
    pendingBytes += c.length;
    if (pendingBytes < pendingNeed) continue;
    const buf: Buffer = carry
      ? Buffer.concat([carry, ...pending])
      : pending.length === 1
        ? pending[0]
        : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    carry = handle(buf, false);
    pendingNeed = carry && carry.length > CHUNK / 2 ? carry.length : 0;
  }
  const rest = carry ? Buffer.concat([carry, ...pending]) : pending.length ? Buffer.concat(pending) : null;
  if (rest) handle(rest, true);
  void lineAtCarry;
  if (total === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${file} is empty`, { file });
  if (header === null) throw new KeelError('KEEL_E_FILE_EMPTY', `${file} is empty`, { file });
  if (dataRows === 0)
    throw new KeelError('KEEL_E_FILE_EMPTY', `${file} has a header but no data rows`, { file });
  return { bytes: total, rows: dataRows };
}

/**
 * Read, type and validate a CSV source under a schema in one pass. Returns the kept rows as a
 * Frame, the report (before distribution expectations) and the quarantine.
 */
export async function streamCsv(
  source: ByteSource,
  file: string,
  schema: Schema,
  options: StreamOptions = {},
): Promise<StreamedCsv> {
  const delimiter = options.delimiter ?? ',';
  const missing = new Set(schema.missing_values.map((m) => m.trim()));
  const emptyMissing = missing.has('');
  const missingNumeric = [...missing].some((m) => NUMBER_RE.test(m));
  const target = schema.target?.column;
  const nCols = schema.columns.length;
  const col = new Collector(nCols);
  let states: ColState[] = [];
  let header: string[] = [];
  let dupKs: number[] = [];
  // per cell of the current row, what identifies its trimmed text for the duplicate-row hash:
  // 1 a plain number (a, b pack its digits exactly), 2 a category code (a), 0 the text's bytes
  let idK = new Uint8Array(0);
  let idA = new Int32Array(0);
  let idB = new Int32Array(0);
  const dupMode = schema.duplicate_rows ?? 'warning';
  const dupSet = dupMode === 'allow' ? null : new RowHashSet();
  let kept = 0;
  let rowsIn = 0;
  let capacity = 1024;
  const q: Quarantine = { header: [], rows: [], lines: [], reasons: [] };
  let qfd: number | null = null;
  let qCount = 0;
  let qText = '';
  const flushQ = () => {
    if (qfd !== null && qText) {
      writeSync(qfd, qText);
      qText = '';
    }
  };

  const onHeader = (h: string[]) => {
    header = h;
    q.header = [...h];
    const index = new Map(h.map((name, i) => [name, i]));
    checkColumns(h, schema, file);
    const declared = new Set(schema.columns.map((c) => c.name));
    for (const name of h)
      if (!declared.has(name))
        col.add(
          col.head,
          `unexpected_column\u0000${name}`,
          name,
          'warning',
          `column "${name}" is not in the schema and is ignored`,
        );
    if (options.header !== false && h.every((name) => NUMBER_RE.test(name)))
      col.add(
        col.head,
        'header_numbers',
        null,
        'warning',
        'every header name is a number: if the first line is data, read the file without a header (--no-header)',
      );
    dupKs = schema.columns.map((c) => index.get(c.name)!);
    states = schema.columns.map((spec): ColState => {
      const isTarget = spec.name === target;
      const kind =
        spec.type === 'number' || spec.type === 'integer'
          ? 'number'
          : spec.type === 'boolean' || spec.type === 'datetime'
            ? spec.type
            : spec.type === 'category'
              ? 'category'
              : 'string';
      const st: ColState = {
        spec,
        k: index.get(spec.name)!,
        kind,
        isTarget,
        fast: spec.max_length === undefined && spec.regex === undefined,
        re: spec.regex === undefined ? null : new RegExp(`^(?:${spec.regex})$`),
        nMissing: 0,
        // every field present from the start: one object shape for all columns (fast property access)
        num: undefined,
        codes: undefined,
        strs: undefined,
        dict: undefined,
        codeOf: undefined,
        bytes: undefined,
        allowed: undefined,
        uniqNum: undefined,
        uniqStr: undefined,
        isInt: spec.type === 'integer',
        min: spec.min ?? Number.NEGATIVE_INFINITY,
        max: spec.max ?? Number.POSITIVE_INFINITY,
      };
      if (kind === 'number' || kind === 'boolean' || kind === 'datetime')
        st.num = new Growable((n) => new Float64Array(n), capacity);
      else if (kind === 'category') {
        const allowed = isTarget && schema.target ? schema.target.classes : spec.allowed;
        st.allowed = allowed;
        st.dict = allowed ? [...allowed] : [];
        st.codeOf = new Map(st.dict.map((c, i) => [c, i]));
        st.codes = new Growable((n) => new Int32Array(n), capacity);
        st.bytes = new ByteDict();
      } else st.strs = [];
      if (spec.unique) {
        if (kind === 'string') st.uniqStr = new Set();
        else st.uniqNum = new Set();
      }
      return st;
    });
    idK = new Uint8Array(states.length);
    idA = new Int32Array(states.length);
    idB = new Int32Array(states.length);
    if (options.quarantineFile) {
      qfd = openSync(options.quarantineFile, 'w');
      writeSync(qfd, quarantineLine([...h, '_keel_line', '_keel_reason']));
    }
  };

  // per row: the reasons it is quarantined ('' when kept)
  let reasons = '';
  const reject = (st: ColState | null, rule: string, message: string, line: number, raw?: string) => {
    const name = st ? st.spec.name : null;
    const where = st ? col.main[states.indexOf(st)] : col.tail;
    col.add(where, rule, name, 'warning', message, line, raw, true);
    const reason = reasonText(name, rule, raw);
    reasons = reasons === '' ? reason : `${reasons}; ${reason}`;
  };

  const onBatch = (b: Batch, r0: number) => {
    const buf = b.buf;
    const fs = b.fs;
    const fe = b.fe;
    const fq = b.fq;
    if (rowsIn === 0 && source.size) {
      // size the columns from the first batch's bytes per row
      const first = b.recField[r0];
      const last = b.recField[b.nRec] - 1;
      const perRow = (fe[last] - fs[first] + 2) / Math.max(1, b.nRec - r0);
      // capped: a first batch of unusually short rows must not reserve a huge column up front
      capacity = Math.min(Math.ceil((source.size / Math.max(perRow, 1)) * 1.03) + 64, 1 << 22);
      for (const st of states) {
        st.num?.ensure(capacity);
        st.codes?.ensure(capacity);
      }
    }
    for (let r = r0; r < b.nRec; r++) {
      const base = b.recField[r];
      const line = b.recLine[r];
      reasons = '';
      rowsIn++;
      for (let c = 0; c < states.length; c++) {
        const st = states[c];
        const f = base + st.k;
        const s = fs[f];
        const e = fe[f];
        const qf = fq[f];
        const spec = st.spec;
        const name = spec.name;
        idK[c] = 0;
        if (st.kind === 'number') {
          const out = st.num!;
          if (kept >= out.data.length) out.ensure(kept + 1);
          let v = Number.NaN;
          let done = false;
          if (st.fast && qf !== 2) {
            if (s === e) {
              if (emptyMissing) {
                out.data[kept] = Number.NaN;
                missingCell(st, line, '');
                continue;
              }
            } else if (!missingNumeric) {
              if (fastNumber(buf, s, e)) {
                v = FAST.v;
                done = true;
                idK[c] = 1;
                idA[c] = FAST.a;
                idB[c] = FAST.b;
              }
            }
          }
          if (!done) {
            const raw = b.text(f);
            const t = raw.trim();
            if (st.fast && t.length > 0 && t.length < 40) {
              const tb = Buffer.from(t);
              if (fastNumber(tb, 0, tb.length)) {
                idK[c] = 1;
                idA[c] = FAST.a;
                idB[c] = FAST.b;
              }
            }
            if (missing.has(t)) {
              out.data[kept] = Number.NaN;
              missingCell(st, line, raw);
              continue;
            }
            out.data[kept] = Number.NaN;
            if (!textOk(st, raw, line)) continue;
            v = NUMBER_RE.test(t) ? Number(t) : Number.NaN;
            if (!Number.isFinite(v)) {
              reject(st, 'type', `"${name}" must be ${article(spec.type)}`, line, raw);
              continue;
            }
          }
          if (st.isInt && !Number.isInteger(v)) {
            out.data[kept] = Number.NaN;
            reject(st, 'type', `"${name}" must be an integer`, line, b.text(f));
            continue;
          }
          if (v < st.min) {
            out.data[kept] = Number.NaN;
            reject(st, 'min', `"${name}" must be >= ${spec.min}`, line, b.text(f));
            continue;
          }
          if (v > st.max) {
            out.data[kept] = Number.NaN;
            reject(st, 'max', `"${name}" must be <= ${spec.max}`, line, b.text(f));
            continue;
          }
          out.data[kept] = v;
          if (st.uniqNum !== undefined) {
            if (st.uniqNum.has(v)) uniqueCell(c, name, line, String(v));
            st.uniqNum.add(v);
          }
        } else if (st.kind === 'category') {
          const out = st.codes!;
          if (kept >= out.data.length) out.ensure(kept + 1);
          let code = st.fast && qf !== 2 && s < e ? st.bytes!.get(buf, s, e) : -1;
          if (code < 0) {
            out.data[kept] = -1;
            const raw = b.text(f);
            const t = raw.trim();
            if (missing.has(t)) {
              missingCell(st, line, raw);
              continue;
            }
            if (!textOk(st, raw, line)) continue;
            const known = st.codeOf!.get(t);
            if (known === undefined) {
              if (st.allowed) {
                if (st.isTarget)
                  reject(
                    st,
                    'target_class',
                    `the target "${name}" must be one of ${st.allowed.join(', ')}`,
                    line,
                    raw,
                  );
                else reject(st, 'allowed', `"${name}" must be one of ${st.allowed.join(', ')}`, line, raw);
                continue;
              }
              code = st.dict!.length;
              st.dict!.push(t);
              st.codeOf!.set(t, code);
            } else code = known;
            if (st.fast && qf !== 2 && t === raw && s < e) st.bytes!.set(buf, s, e, code);
          }
          out.data[kept] = code;
          if (st.fast) {
            idK[c] = 2;
            idA[c] = code;
          }
          if (st.uniqNum) {
            if (st.uniqNum.has(code)) uniqueCell(c, name, line, String(code));
            st.uniqNum.add(code);
          }
        } else if (st.kind === 'boolean' || st.kind === 'datetime') {
          const out = st.num!;
          if (kept >= out.data.length) out.ensure(kept + 1);
          out.data[kept] = Number.NaN;
          const raw = b.text(f);
          const t = raw.trim();
          if (missing.has(t)) {
            missingCell(st, line, raw);
            continue;
          }
          if (!textOk(st, raw, line)) continue;
          let v: number;
          if (st.kind === 'datetime') v = parseDatetime(t);
          else {
            const l = t.toLowerCase();
            v = TRUE.has(l) ? 1 : FALSE.has(l) ? 0 : Number.NaN;
          }
          if (Number.isNaN(v)) {
            reject(st, 'type', `"${name}" must be ${article(spec.type)}`, line, raw);
            continue;
          }
          if (spec.min !== undefined && v < spec.min) {
            reject(st, 'min', `"${name}" must be >= ${boundText(spec.type, spec.min)}`, line, raw);
            continue;
          }
          if (spec.max !== undefined && v > spec.max) {
            reject(st, 'max', `"${name}" must be <= ${boundText(spec.type, spec.max)}`, line, raw);
            continue;
          }
          out.data[kept] = v;
          if (st.uniqNum) {
            if (st.uniqNum.has(v)) uniqueCell(c, name, line, String(v));
            st.uniqNum.add(v);
          }
        } else {
          const out = st.strs!;
          const raw = b.text(f);
          out[kept] = null;
          if (missing.has(raw.trim())) {
            missingCell(st, line, raw);
            continue;
          }
          if (!textOk(st, raw, line)) continue;
          out[kept] = raw;
          if (st.uniqStr) {
            if (st.uniqStr.has(raw)) uniqueCell(c, name, line, raw);
            st.uniqStr.add(raw);
          }
        }
      }
      if (dupSet && !dupSet.add(...rowHash(b, base, dupKs, idK, idA, idB))) {
        const msg = 'the row repeats an earlier row in every declared column';
        if (dupMode === 'quarantine') reject(null, 'duplicate_row', msg, line);
        else col.add(col.tail, 'duplicate_row', null, dupMode === 'error' ? 'error' : 'warning', msg, line);
      }
      if (reasons === '') kept++;
      else {
        qCount++;
        const cells: string[] = [];
        for (let f = base; f < b.recField[r + 1]; f++) cells.push(b.text(f));
        if (qfd !== null) {
          qText += quarantineLine(cells, line, reasons);
          if (qText.length > 1 << 16) flushQ();
        } else {
          q.rows.push(cells);
          q.lines.push(line);
          q.reasons.push(reasons);
        }
      }
    }
  };
  const addReason = (column: string, rule: string, raw: string) => {
    const reason = reasonText(column, rule, raw);
    reasons = reasons === '' ? reason : `${reasons}; ${reason}`;
  };
  // a value seen before in a unique column (c: its position among the states)
  const uniqueCell = (c: number, name: string, line: number, raw: string) => {
    col.unique(c, name, line, raw);
    addReason(name, 'unique', raw);
  };
  // a missing cell: counted, and refused where the column is the target or not nullable
  const missingCell = (st: ColState, line: number, raw: string) => {
    st.nMissing++;
    const name = st.spec.name;
    if (st.isTarget) reject(st, 'target_missing', `the target "${name}" must not be missing`, line, raw);
    else if (!st.spec.nullable) reject(st, 'not_null', `"${name}" must not be missing`, line, raw);
  };
  const textOk = (st: ColState, raw: string, line: number): boolean => {
    const spec = st.spec;
    if (spec.max_length !== undefined && raw.length > spec.max_length) {
      reject(st, 'max_length', `"${spec.name}" must be at most ${spec.max_length} characters`, line, raw);
      return false;
    }
    if (st.re && !st.re.test(raw.trim())) {
      reject(st, 'regex', `"${spec.name}" must match /${spec.regex}/`, line, raw);
      return false;
    }
    return true;
  };

  let scanned: { bytes: number; rows: number };
  try {
    scanned = await scanCsv(
      source,
      file,
      delimiter,
      onHeader,
      onBatch,
      options.header === false ? { names: schema.columns.map((c) => c.name) } : null,
    );
    flushQ();
  } finally {
    if (qfd !== null) closeSync(qfd);
  }
  if (kept + qCount !== rowsIn)
    throw new KeelError(
      'KEEL_E_INTERNAL',
      `${file}: ${rowsIn} rows in but ${kept} kept + ${qCount} quarantined`,
    );

  const names: string[] = [];
  const columns: Column[] = [];
  const allMissing: (Violation | undefined)[] = [];
  for (const st of states) {
    names.push(st.spec.name);
    allMissing.push(
      rowsIn > 0 && st.nMissing === rowsIn
        ? {
            rule: 'all_missing',
            column: st.spec.name,
            severity: 'warning',
            count: 1,
            rows: [],
            examples: [],
            message: `"${st.spec.name}" is missing in every row`,
            quarantined: false,
          }
        : undefined,
    );
    if (st.kind === 'number' || st.kind === 'boolean' || st.kind === 'datetime')
      columns.push({ kind: 'numeric', values: st.num!.done(kept) });
    else if (st.kind === 'category') {
      columns.push(categoricalOf(st.codes!.done(kept), st.dict!, st.allowed !== undefined));
    } else {
      const v = st.strs!;
      v.length = kept;
      columns.push({ kind: 'string', values: v });
    }
  }
  // table-level rules, on the kept rows
  if (target && schema.target) {
    const c = columns[names.indexOf(target)];
    if (c.kind === 'categorical') {
      const seen = new Uint8Array(schema.target.classes.length);
      for (let r = 0; r < kept; r++) if (c.codes[r] >= 0 && c.codes[r] < seen.length) seen[c.codes[r]] = 1;
      const absent = schema.target.classes.filter((_, i) => !seen[i]);
      if (absent.length)
        col.add(
          col.tail,
          'target_classes',
          target,
          'error',
          `the target "${target}" never takes the class(es) ${absent.join(', ')} in the kept rows`,
        );
    }
  }
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  if (rowsIn > 0 && kept === 0)
    col.add(col.tail, 'rows_kept', null, 'error', `every one of the ${rowsIn} rows was quarantined`);
  if (schema.max_quarantined !== undefined && rowsIn > 0 && qCount / rowsIn > schema.max_quarantined)
    col.add(
      col.tail,
      'max_quarantined',
      null,
      'error',
      `${qCount} of ${rowsIn} rows quarantined (${pct(qCount / rowsIn)}), the schema allows at most ${pct(schema.max_quarantined)}`,
    );
  if (schema.rows?.min !== undefined && kept < schema.rows.min)
    col.add(
      col.tail,
      'row_count:min',
      null,
      'error',
      `${kept} rows kept, the schema wants at least ${schema.rows.min}`,
    );
  if (schema.rows?.max !== undefined && kept > schema.rows.max)
    col.add(
      col.tail,
      'row_count:max',
      null,
      'error',
      `${kept} rows kept, the schema allows at most ${schema.rows.max}`,
    );
  const violations = col
    .all(allMissing)
    .map((v) => ({ ...v, rule: v.rule.split('\u0000')[0].split(':')[0] }));
  const report: ValidationReport = {
    file,
    ok: violations.every((v) => v.severity !== 'error'),
    rows: rowsIn,
    kept,
    quarantined: qCount,
    columns: header.length,
    violations,
  };
  return { frame: new Frame(names, columns), report, quarantine: q, bytes: scanned.bytes };
}

/**
 * A 96-bit hash of the declared cells of a record, each trimmed (as text), in schema order. A cell
 * is fed by what identifies its trimmed text exactly: a plain number's sign, digits and point
 * position, a category's code (both one-to-one with the text), or else the text's UTF-8 bytes
 * (unescaped and trimmed), so equal texts hash equally whichever way they were written.
 */
function rowHash(
  b: Batch,
  base: number,
  ks: number[],
  idK: Uint8Array,
  idA: Int32Array,
  idB: Int32Array,
): [number, number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  let h3 = 0x2545f491;
  const buf = b.buf;
  for (let c = 0; c < ks.length; c++) {
    const kind = idK[c];
    if (kind !== 0) {
      const x = idA[c];
      const y = idB[c] ^ (kind << 29);
      h1 = Math.imul(h1 ^ x, 0x01000193);
      h1 = Math.imul(h1 ^ y, 0x01000193);
      h2 = Math.imul(h2 ^ x, 0x5bd1e995);
      h2 ^= h2 >>> 13;
      h2 = Math.imul(h2 ^ y, 0x5bd1e995);
      h2 ^= h2 >>> 13;
      h3 = Math.imul(h3 + x, 0x85ebca6b) ^ (h3 >>> 11);
      h3 = Math.imul(h3 + y, 0x85ebca6b) ^ (h3 >>> 11);
    } else {
      const f = base + ks[c];
      let s = b.fs[f];
      let e = b.fe[f];
      let src: Uint8Array = buf;
      if (
        b.fq[f] === 2 ||
        (e > s && (buf[s] <= 32 || buf[s] >= 128 || buf[e - 1] <= 32 || buf[e - 1] >= 128))
      ) {
        src = Buffer.from(b.text(f).trim());
        s = 0;
        e = src.length;
      }
      for (let i = s; i < e; i++) {
        const x = src[i];
        h1 = Math.imul(h1 ^ x, 0x01000193);
        h2 = Math.imul(h2 ^ x, 0x5bd1e995);
        h2 ^= h2 >>> 13;
        h3 = Math.imul(h3 + x, 0x85ebca6b) ^ (h3 >>> 11);
      }
      h1 = Math.imul(h1 ^ (e - s), 0x01000193);
    }
    // the cell boundary
    h1 = Math.imul(h1 ^ 0x1ff, 0x01000193);
    h2 = Math.imul(h2 ^ (0x100 + c), 0x5bd1e995);
    h3 = Math.imul(h3 + 0x3ff + c, 0xc2b2ae35);
  }
  return [fmix(h1), fmix(h2 ^ h1), fmix(h3)];
}

/** The result of fastNumber: the value, and two words that identify the text exactly. */
const FAST = { v: 0, a: 0, b: 0 };

/**
 * Parse [-+]?digits[.digits] (or .digits, or digits.) with at most 15 digits from bytes: exact as
 * mantissa / 10^k (both exact doubles, one correctly rounded division), as Number() would give.
 * False for anything else (exponents, spaces, longer numbers), which takes the string path.
 */
function fastNumber(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  let sign = 0;
  const c0 = buf[i];
  if (c0 === 45 || c0 === 43) {
    sign = c0 === 45 ? 1 : 2;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = 0;
  for (; i < e; i++) {
    const d = buf[i] - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      digits++;
      frac += dot;
    } else if (d === -2 && dot === 0) dot = 1;
    else return false;
  }
  if (digits === 0 || digits > 15) return false;
  const v = frac === 0 ? m : m / POW10[frac];
  FAST.v = sign === 1 ? -v : v;
  FAST.a = m | 0;
  FAST.b = Math.floor(m / 4294967296) | (digits << 18) | (frac << 22) | (dot << 26) | (sign << 27);
  return true;
}

/** murmur3's 32-bit finalizer: mixes every bit of h into every bit of the result. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
