/**
 * A request-body reader specialised to one model signature, compiled once per signature: it
 * reads the raw JSON bytes of the common shapes straight into a typed Frame, without building the
 * JSON object tree first and walking it again (JSON.parse + recordsToFrame/columnsToFrame).
 *
 * It only ever answers for bodies it fully understands and that are valid under the signature:
 * one record (`{"f0": 1.5, "cat": "a", ...}`) or a columnar batch (`{"columns": {"f0": [...],
 * ...}}`), strict JSON, keys that are the signature's inputs, plain strings (no escapes), every
 * value accepted. For anything else (another shape, an unknown or repeated key, a value the
 * generic reader would reject or turn into an error, syntax it does not follow) it returns null
 * and the caller reads the body the generic way, which gives the very same frame or the errors.
 * So the fast path never decides an error, and its frames hold exactly what the generic reader's
 * would: numbers are converted to the same doubles as JSON.parse (correctly rounded: an exact
 * integer mantissa times an exact power of ten when that is one rounding, else Number() of the
 * token's text), categories become codes into the signature's `allowed` array.
 *
 * Signatures with string or datetime inputs, or categories without an allowed list, get no fast
 * reader (compileFastBody returns null).
 */
import { type Column, Frame } from '../data/frame.js';
import type { ColumnSpec } from '../data/schema.js';

const NUMBER = 0;
const INTEGER = 1;
const BOOLEAN = 2;
const CATEGORY = 3;

/** Exact powers of ten as doubles (10^0 .. 10^22 are all exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

export class FastBody {
  private readonly n: number;
  private readonly names: string[];
  private readonly kind: Uint8Array;
  private readonly nullable: Uint8Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  /** The input names as UTF-8 bytes. */
  private readonly keys: Uint8Array[];
  /** Category columns: FNV-1a hash of a value's bytes → its code (-2: two values share the hash). */
  private readonly catHash: (HashCodes | null)[];
  private readonly catBytes: (Uint8Array[] | null)[];
  private readonly allowed: (readonly string[] | null)[];
  /** The one-record frame, refilled per request (used before anything else can run). */
  private readonly scratchCols: Column[];
  private readonly scratch: Frame;
  /** Per column: the request (stamp) that last set it, to find missing and repeated keys. */
  private readonly seen: Int32Array;
  private stamp = 0;
  /** Growable buffers for the first column of a columnar batch (its length is not known yet). */
  private grow64: Float64Array = new Float64Array(1024);
  private grow32: Int32Array = new Int32Array(1024);

  constructor(specs: readonly ColumnSpec[]) {
    const enc = new TextEncoder();
    this.n = specs.length;
    this.names = specs.map((s) => s.name);
    this.kind = Uint8Array.from(specs, (s) =>
      s.type === 'number'
        ? NUMBER
        : s.type === 'integer'
          ? INTEGER
          : s.type === 'boolean'
            ? BOOLEAN
            : CATEGORY,
    );
    this.nullable = Uint8Array.from(specs, (s) => (s.nullable ? 1 : 0));
    const numeric = (s: ColumnSpec) => s.type === 'number' || s.type === 'integer';
    this.min = Float64Array.from(specs, (s) =>
      numeric(s) && s.min !== undefined ? s.min : Number.NEGATIVE_INFINITY,
    );
    this.max = Float64Array.from(specs, (s) =>
      numeric(s) && s.max !== undefined ? s.max : Number.POSITIVE_INFINITY,
    );
    this.keys = specs.map((s) => enc.encode(s.name));
    this.catHash = specs.map((s) => {
      if (s.type !== 'category') return null;
      const m = new Map<number, number>();
      s.allowed!.forEach((v, code) => {
        const b = enc.encode(v);
        const h = fnv(b, 0, b.length);
        // a repeated allowed value takes its last code (as the generic reader's Map of them does)
        const was = m.get(h);
        m.set(h, was === undefined || (was >= 0 && sameBytes(enc.encode(s.allowed![was]), b)) ? code : -2);
      });
      return hashCodes(m);
    });
    this.catBytes = specs.map((s) => (s.type === 'category' ? s.allowed!.map((v) => enc.encode(v)) : null));
    this.allowed = specs.map((s) => (s.type === 'category' ? s.allowed! : null));
    this.scratchCols = this.makeColumns(1);
    this.scratch = new Frame(this.names, this.scratchCols);
    this.seen = new Int32Array(this.n);
  }

  private makeColumns(rows: number): Column[] {
    const cols: Column[] = [];
    for (let c = 0; c < this.n; c++)
      cols.push(
        this.kind[c] === CATEGORY
          ? { kind: 'categorical', codes: new Int32Array(rows), categories: this.allowed[c]! }
          : { kind: 'numeric', values: new Float64Array(rows) },
      );
    return cols;
  }

  /**
   * The body's frame, or null when it is not one of the fast shapes or not valid as it is (the
   * caller then reads it the generic way). A one-record frame is this reader's scratch frame:
   * overwritten by the next call, so use it before anything else can run.
   */
  read(b: Uint8Array): Frame | null {
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1;
      this.seen.fill(0);
    }
    let p = ws(b, 0);
    if (b[p] !== 0x7b) return null; // {
    p = ws(b, p + 1);
    // {"columns": {...}} alone is a columnar batch; any other object is one record
    const q = b[p] === 0x22 ? keyColumns(b, p) : -1;
    if (q >= 0 && b[q] === 0x7b) return this.readColumns(b, q + 1);
    return this.readRecord(b, p);
  }

  /** The column named by the key string at p (which must be a plain string), or -1. */
  private column(b: Uint8Array, p: number, end: number, expect: number): number {
    const keys = this.keys;
    // keys usually come in signature order: try the next one first
    if (expect < this.n && sameRange(keys[expect], b, p + 1, end)) return expect;
    for (let c = 0; c < this.n; c++) if (sameRange(keys[c], b, p + 1, end)) return c;
    return -1;
  }

  /** One record into the scratch frame, or null. p is at the first key (after the brace). */
  private readRecord(b: Uint8Array, p: number): Frame | null {
    const cols = this.scratchCols;
    const stamp = this.stamp;
    const seen = this.seen;
    let next = 0;
    for (;;) {
      if (b[p] !== 0x22) return null;
      const end = stringEnd(b, p);
      if (end < 0) return null;
      const c = this.column(b, p, end, next);
      if (c < 0 || seen[c] === stamp) return null;
      seen[c] = stamp;
      p = ws(b, end + 1);
      if (b[p] !== 0x3a) return null;
      const col = cols[c];
      p = this.value(
        c,
        b,
        ws(b, p + 1),
        col.kind === 'numeric' ? col.values : (col as { codes: Int32Array }).codes,
        0,
      );
      if (p < 0) return null;
      next = c + 1;
      p = ws(b, p);
      const x = b[p];
      p = ws(b, p + 1);
      if (x === 0x2c) continue;
      if (x === 0x7d) break;
      return null;
    }
    if (p !== b.length) return null;
    for (let c = 0; c < this.n; c++)
      if (seen[c] !== stamp) {
        if (!this.nullable[c]) return null;
        setMissing(cols[c], 0);
      }
    return this.scratch;
  }

  /** A columnar batch, or null. p is just inside the brace of the columns object. */
  private readColumns(b: Uint8Array, p: number): Frame | null {
    const stamp = this.stamp;
    const seen = this.seen;
    let rows = -1;
    const cols: (Column | null)[] = new Array(this.n).fill(null);
    let next = 0;
    p = ws(b, p);
    for (;;) {
      if (b[p] !== 0x22) return null;
      const end = stringEnd(b, p);
      if (end < 0) return null;
      const c = this.column(b, p, end, next);
      if (c < 0 || seen[c] === stamp) return null;
      seen[c] = stamp;
      p = ws(b, end + 1);
      if (b[p] !== 0x3a) return null;
      p = ws(b, p + 1);
      if (b[p] !== 0x5b) return null; // [
      p = ws(b, p + 1);
      const cat = this.kind[c] === CATEGORY;
      let into: Float64Array | Int32Array;
      let len = 0;
      if (rows < 0) {
        // the first column: its length is not known yet, read into a growable buffer
        if (b[p] === 0x5d) return null; // an empty batch: the generic reader answers it
        into = cat ? this.grow32 : this.grow64;
        for (;;) {
          if (len === into.length) {
            const g = cat ? new Int32Array(len * 2) : new Float64Array(len * 2);
            g.set(into);
            into = g;
            if (cat) this.grow32 = g as Int32Array;
            else this.grow64 = g as Float64Array;
          }
          p = this.value(c, b, p, into, len);
          if (p < 0) return null;
          len++;
          p = ws(b, p);
          const x = b[p];
          p = ws(b, p + 1);
          if (x === 0x2c) continue;
          if (x === 0x5d) break;
          return null;
        }
        rows = len;
        into = into.slice(0, len);
      } else if (!cat && this.kind[c] !== BOOLEAN) {
        into = new Float64Array(rows);
        p = this.numbers(c, b, p, into, rows);
        if (p < 0) return null;
        p = ws(b, p);
      } else {
        into = cat ? new Int32Array(rows) : new Float64Array(rows);
        for (;;) {
          if (len === rows) return null;
          p = this.value(c, b, p, into, len);
          if (p < 0) return null;
          len++;
          p = ws(b, p);
          const x = b[p];
          p = ws(b, p + 1);
          if (x === 0x2c) continue;
          if (x === 0x5d && len === rows) break;
          return null;
        }
      }
      cols[c] = cat
        ? { kind: 'categorical', codes: into as Int32Array, categories: this.allowed[c]! }
        : { kind: 'numeric', values: into as Float64Array };
      next = c + 1;
      const x = b[p];
      p = ws(b, p + 1);
      if (x === 0x2c) continue;
      if (x === 0x7d) break;
      return null;
    }
    // the wrapper object must end here: {"columns": {...}} and nothing else
    if (b[p] !== 0x7d || ws(b, p + 1) !== b.length) return null;
    const out: Column[] = new Array(this.n);
    for (let c = 0; c < this.n; c++) {
      const col = cols[c];
      if (col) out[c] = col;
      else if (!this.nullable[c]) return null;
      // an absent column is missing in every row
      else
        out[c] =
          this.kind[c] === CATEGORY
            ? { kind: 'categorical', codes: new Int32Array(rows).fill(-1), categories: this.allowed[c]! }
            : { kind: 'numeric', values: new Float64Array(rows).fill(Number.NaN) };
    }
    return new Frame(this.names, out);
  }

  /**
   * Exactly `rows` values of number or integer column c from p (the first value) into `into`,
   * as value() reads them: the position after the closing bracket, or -1.
   */
  private numbers(c: number, b: Uint8Array, p: number, into: Float64Array, rows: number): number {
    const nullable = this.nullable[c] === 1;
    const integer = this.kind[c] === INTEGER;
    const lo = this.min[c];
    const hi = this.max[c];
    for (let i = 0; ; ) {
      if (b[p] === 0x6e) {
        if (!nullable || b[p + 1] !== 0x75 || b[p + 2] !== 0x6c || b[p + 3] !== 0x6c) return -1;
        into[i] = Number.NaN;
        p += 4;
      } else {
        p = readShortNumber(b, p);
        if (p < 0) return -1;
        const v = NUM;
        if (!(v >= lo && v <= hi) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) return -1;
        into[i] = v;
      }
      p = ws(b, p);
      const x = b[p];
      if (++i === rows) return x === 0x5d ? p + 1 : -1;
      if (x !== 0x2c) return -1;
      p = ws(b, p + 1);
    }
  }

  /** The value at p for column c into into[i] (NaN / -1 when missing): the position after it, or -1. */
  private value(c: number, b: Uint8Array, p: number, into: Float64Array | Int32Array, i: number): number {
    const x = b[p];
    const kind = this.kind[c];
    if (x === 0x6e) {
      // null
      if (!this.nullable[c] || b[p + 1] !== 0x75 || b[p + 2] !== 0x6c || b[p + 3] !== 0x6c) return -1;
      into[i] = kind === CATEGORY ? -1 : Number.NaN;
      return p + 4;
    }
    if (kind === CATEGORY) {
      if (x !== 0x22) return -1;
      const end = stringEnd(b, p);
      if (end < 0) return -1;
      const code = lookup(this.catHash[c]!, fnv(b, p + 1, end));
      if (code < 0 || !sameRange(this.catBytes[c]![code], b, p + 1, end)) return -1;
      into[i] = code;
      return end + 1;
    }
    if (kind === BOOLEAN) {
      if (x === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) {
        into[i] = 1;
        return p + 4;
      }
      if (x === 0x66 && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65) {
        into[i] = 0;
        return p + 5;
      }
      // 0 and 1 as numbers (toBool takes exactly these); -0 reads as 0, as toBool gives
      p = readNumber(b, p);
      if (p < 0 || (NUM !== 0 && NUM !== 1)) return -1;
      into[i] = NUM === 1 ? 1 : 0;
      return p;
    }
    p = readShortNumber(b, p);
    if (p < 0) return -1;
    const v = NUM;
    if (!Number.isFinite(v) || (kind === INTEGER && !Number.isInteger(v))) return -1;
    if (v < this.min[c] || v > this.max[c]) return -1;
    into[i] = v;
    return p;
  }
}

/** The double readNumber read last. */
let NUM = 0;

/**
 * A strict JSON number at p into NUM, the same double JSON.parse gives: up to 15 significant
 * digits and a decimal exponent within ±22 are one correctly rounded operation on exact operands;
 * longer or larger numbers go through Number() of their text (also correctly rounded). The
 * position after it, or -1 when the bytes are not a JSON number.
 */
function readNumber(b: Uint8Array, p: number): number {
  const start = p;
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  }
  let m = 0;
  let digits = 0;
  let x = b[p];
  if (x === 0x30) {
    x = b[++p];
    if (x >= 0x30 && x <= 0x39) return -1; // a leading zero
  } else if (x >= 0x31 && x <= 0x39) {
    do {
      m = m * 10 + (x - 0x30);
      digits++;
      x = b[++p];
    } while (x >= 0x30 && x <= 0x39);
  } else return -1;
  let exp = 0;
  if (x === 0x2e) {
    x = b[++p];
    if (!(x >= 0x30 && x <= 0x39)) return -1;
    do {
      // leading zeros of the mantissa (0.000123) are not significant digits
      if (m !== 0 || x !== 0x30) digits++;
      m = m * 10 + (x - 0x30);
      exp--;
      x = b[++p];
    } while (x >= 0x30 && x <= 0x39);
  }
  if (x === 0x65 || x === 0x45) {
    x = b[++p];
    let eneg = false;
    if (x === 0x2b || x === 0x2d) {
      eneg = x === 0x2d;
      x = b[++p];
    }
    if (!(x >= 0x30 && x <= 0x39)) return -1;
    let e = 0;
    do {
      if (e < 100000) e = e * 10 + (x - 0x30);
      x = b[++p];
    } while (x >= 0x30 && x <= 0x39);
    exp += eneg ? -e : e;
  }
  if (digits <= 15 && exp >= -22 && exp <= 22) {
    const v = exp < 0 ? m / POW10[-exp] : m * POW10[exp];
    NUM = neg ? -v : v;
  } else NUM = Number(latin1(b, start, p));
  return p;
}

/**
 * readNumber for the common short form first: an optional minus, digits and an optional fraction,
 * at most 9 digits in all and no exponent, read as an integer below 10^9 and divided once by a
 * power of ten: the same integer and the same division as readNumber, so the same double. Any
 * other text is read by readNumber from the start.
 */
function readShortNumber(b: Uint8Array, p: number): number {
  const start = p;
  let x = b[p];
  const neg = x === 0x2d;
  if (neg) x = b[++p];
  let m = 0;
  let k = 0;
  if (x >= 0x31 && x <= 0x39) {
    do {
      m = m * 10 + (x - 0x30);
      k++;
      x = b[++p];
    } while (x >= 0x30 && x <= 0x39 && k < 10);
  } else if (x === 0x30) {
    x = b[++p];
    k = 1;
  } else return readNumber(b, start);
  let frac = 0;
  if (x === 0x2e) {
    x = b[++p];
    while (x >= 0x30 && x <= 0x39 && k < 10) {
      m = m * 10 + (x - 0x30);
      k++;
      frac++;
      x = b[++p];
    }
    if (frac === 0) return readNumber(b, start);
  }
  // more digits, an exponent or a leading zero: the general reader decides
  if (k > 9 || (x >= 0x30 && x <= 0x39) || x === 0x65 || x === 0x45 || x === 0x2e)
    return readNumber(b, start);
  const v = frac > 0 ? m / POW10[frac] : m;
  NUM = neg ? -v : v;
  return p;
}

/** Past JSON whitespace from p. */
function ws(b: Uint8Array, p: number): number {
  let x = b[p];
  while (x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09) x = b[++p];
  return p;
}

/** The closing quote of the plain string opening at p (no escapes, no control bytes), or -1. */
function stringEnd(b: Uint8Array, p: number): number {
  const n = b.length;
  for (p++; p < n; p++) {
    const x = b[p];
    if (x === 0x22) return p;
    if (x === 0x5c || x < 0x20) return -1;
  }
  return -1;
}

/** When the string at p is exactly "columns" followed by a colon: the position after the colon (and whitespace); else -1. */
function keyColumns(b: Uint8Array, p: number): number {
  const w = COLUMNS;
  if (p + w.length + 1 >= b.length || b[p + w.length + 1] !== 0x22) return -1;
  for (let k = 0; k < w.length; k++) if (b[p + 1 + k] !== w[k]) return -1;
  const q = ws(b, p + w.length + 2);
  return b[q] === 0x3a ? ws(b, q + 1) : -1;
}

const COLUMNS = new TextEncoder().encode('columns');

function setMissing(col: Column, i: number): void {
  if (col.kind === 'numeric') col.values[i] = Number.NaN;
  else if (col.kind === 'categorical') col.codes[i] = -1;
}

/**
 * A hash → code map as an open-addressing table in two typed arrays (a Map's lookup costs more
 * than the rest of reading a category): hash h at the first free slot from h's mixed low bits.
 */
interface HashCodes {
  mask: number;
  hashes: Int32Array;
  /** The code of the hash in the same slot; -3 for a free slot. */
  codes: Int32Array;
}

function hashCodes(m: Map<number, number>): HashCodes {
  let size = 8;
  while (size < 2 * m.size) size *= 2;
  const t: HashCodes = { mask: size - 1, hashes: new Int32Array(size), codes: new Int32Array(size).fill(-3) };
  for (const [h, code] of m) {
    let i = (h ^ (h >>> 15)) & t.mask;
    while (t.codes[i] !== -3) i = (i + 1) & t.mask;
    t.hashes[i] = h;
    t.codes[i] = code;
  }
  return t;
}

/** The code stored for hash h (-2 when two allowed values share it), or -3 when it has none. */
function lookup(t: HashCodes, h: number): number {
  let i = (h ^ (h >>> 15)) & t.mask;
  for (;;) {
    const code = t.codes[i];
    if (code === -3 || t.hashes[i] === h) return code;
    i = (i + 1) & t.mask;
  }
}

function fnv(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let p = s; p < e; p++) h = Math.imul(h ^ b[p], 0x01000193);
  return h | 0;
}

function sameRange(key: Uint8Array, b: Uint8Array, s: number, e: number): boolean {
  if (key.length !== e - s) return false;
  for (let k = 0; k < key.length; k++) if (key[k] !== b[s + k]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return sameRange(a, b, 0, b.length);
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let p = s; p < e; p++) out += String.fromCharCode(b[p]);
  return out;
}

const compiled = new WeakMap<readonly ColumnSpec[], FastBody | null>();

/** The fast reader of a signature's inputs (made once per signature), or null when it has none. */
export function fastBodyFor(specs: readonly ColumnSpec[]): FastBody | null {
  let f = compiled.get(specs);
  if (f === undefined) {
    const ok = specs.every(
      (s) =>
        s.type === 'number' ||
        s.type === 'integer' ||
        s.type === 'boolean' ||
        (s.type === 'category' && s.allowed !== undefined),
    );
    f = ok && specs.length > 0 ? new FastBody(specs) : null;
    compiled.set(specs, f);
  }
  return f;
}
