/**
 * JSON records → a typed Frame under column specs, with every field error collected: what the
 * prediction API uses to check requests against a model's signature (the same rules as training
 * data: types, required fields, ranges, allowed categories).
 *
 * Rules: numbers accept JSON numbers and numeric strings; integers must be whole; booleans accept
 * true/false, 0/1 and "yes"/"no"/"true"/"false"; categories accept strings (numbers are turned
 * into strings) from the allowed list; a missing or null field is an error unless the column is
 * nullable; fields the specs do not name are ignored unless `rejectUnknownFields` is set.
 */
import { parseDatetime } from './datetime.js';
import { type Column, Frame } from './frame.js';
import type { ColumnSpec } from './schema.js';

export interface FieldError {
  /** Position of the record in the request (0-based). */
  index: number;
  field: string;
  rule: 'record' | 'required' | 'type' | 'nullable' | 'min' | 'max' | 'allowed' | 'unknown_field';
  message: string;
  value?: unknown;
}

export interface RecordsOptions {
  rejectUnknownFields?: boolean;
  /** Stop collecting after this many errors (default 100). */
  maxErrors?: number;
  /**
   * For one record: fill a Frame kept per specs instead of making one (a server's hot path). The
   * frame returned is overwritten by the next such call: use it before anything else can run
   * (no await in between). Ignored for other counts and for category columns without an
   * allowed list.
   */
  scratch?: boolean;
}

const NUMBER_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** What a signature needs per request, built once per specs array (signatures are long-lived). */
interface Compiled {
  names: string[];
  known: Set<string>;
  catIndex: (Map<string, number> | null)[];
  /** The one-record frame of the `scratch` option, made on first use. */
  scratch: { cols: Column[]; frame: Frame } | null;
  /** Whether every category column has an allowed list (else no scratch frame). */
  staticCategories: boolean;
}
const compiledSpecs = new WeakMap<readonly ColumnSpec[], Compiled>();

function compile(specs: readonly ColumnSpec[]): Compiled {
  let c = compiledSpecs.get(specs);
  if (!c) {
    c = {
      names: specs.map((s) => s.name),
      known: new Set(specs.map((s) => s.name)),
      catIndex: specs.map((s) =>
        s.type === 'category' && s.allowed ? new Map(s.allowed.map((v, i) => [v, i])) : null,
      ),
      scratch: null,
      staticCategories: specs.every((s) => s.type !== 'category' || s.allowed !== undefined),
    };
    compiledSpecs.set(specs, c);
  }
  return c;
}

export function recordsToFrame(
  records: unknown[],
  specs: readonly ColumnSpec[],
  options: RecordsOptions = {},
): { frame: Frame | null; errors: FieldError[] } {
  // no closures in here: under tsx every closure made per call also pays for its name
  const max = options.maxErrors ?? 100;
  const errors: FieldError[] = [];
  const n = records.length;
  const compiled = compile(specs);
  const { names, known, catIndex } = compiled;
  const nSpecs = specs.length;
  let scratch: Compiled['scratch'] = null;
  if (options.scratch && n === 1 && compiled.staticCategories) {
    if (!compiled.scratch) {
      const c = makeColumns(specs, 1);
      compiled.scratch = { cols: c, frame: new Frame(names, c) };
    }
    scratch = compiled.scratch;
    // string cells are not overwritten when missing: start them empty
    for (const col of scratch.cols) if (col.kind === 'string') (col.values as (string | null)[])[0] = null;
  }
  const cols = scratch ? scratch.cols : makeColumns(specs, n);
  const ctx: Ctx = { errors, max, catIndex, dynamicCats: null, nSpecs };
  for (let i = 0; i < n; i++) {
    const rec = records[i];
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      addError(errors, max, {
        index: i,
        field: '',
        rule: 'record',
        message: `record ${i} must be a JSON object`,
        value: rec,
      });
      continue;
    }
    const obj = rec as Record<string, unknown>;
    if (options.rejectUnknownFields)
      for (const k of Object.keys(obj))
        if (!known.has(k))
          addError(errors, max, {
            index: i,
            field: k,
            rule: 'unknown_field',
            message: `"${k}" is not an input of this model`,
          });
    for (let c = 0; c < nSpecs; c++) putValue(ctx, c, specs[c], cols[c], i, obj[names[c]]);
  }
  if (scratch) return errors.length > 0 ? { frame: null, errors } : { frame: scratch.frame, errors };
  return finish(ctx, names, cols);
}

/**
 * A batch as columns (`{"f0": [1, 2], "cat": ["a", "b"]}`, one array per input, all of one
 * length) → a typed Frame under column specs, by the same rules as recordsToFrame and with the
 * same errors (index = row), reported column by column. A column the specs do not name is ignored
 * unless `rejectUnknownFields`; a missing column is missing in every row; arrays of different
 * lengths are an error.
 */
export function columnsToFrame(
  columns: Record<string, unknown>,
  specs: readonly ColumnSpec[],
  options: RecordsOptions = {},
): { frame: Frame | null; errors: FieldError[] } {
  const max = options.maxErrors ?? 100;
  const errors: FieldError[] = [];
  const { names, known, catIndex } = compile(specs);
  const nSpecs = specs.length;
  let n = -1;
  let first = '';
  for (const k of Object.keys(columns)) {
    const v = columns[k];
    if (!known.has(k)) {
      if (options.rejectUnknownFields)
        addError(errors, max, {
          index: 0,
          field: k,
          rule: 'unknown_field',
          message: `"${k}" is not an input of this model`,
        });
      continue;
    }
    if (!Array.isArray(v)) {
      addError(errors, max, {
        index: 0,
        field: k,
        rule: 'type',
        message: `column "${k}" must be an array of values, one per row`,
      });
      continue;
    }
    if (n === -1) {
      n = v.length;
      first = k;
    } else if (v.length !== n)
      addError(errors, max, {
        index: 0,
        field: k,
        rule: 'record',
        message: `column "${k}" has ${v.length} values, column "${first}" ${n}`,
      });
  }
  if (errors.length > 0) return { frame: null, errors };
  if (n === -1) n = 0;
  const cols = makeColumns(specs, n);
  const ctx: Ctx = { errors, max, catIndex, dynamicCats: null, nSpecs };
  for (let c = 0; c < nSpecs; c++) {
    const values = columns[names[c]] as unknown[] | undefined;
    const spec = specs[c];
    const col = cols[c];
    if (values === undefined) for (let i = 0; i < n; i++) putValue(ctx, c, spec, col, i, undefined);
    else for (let i = 0; i < n; i++) putValue(ctx, c, spec, col, i, values[i]);
  }
  return finish(ctx, names, cols);
}

interface Ctx {
  errors: FieldError[];
  max: number;
  catIndex: (Map<string, number> | null)[];
  /** Per spec, the categories met so far, for category columns without an allowed list. */
  dynamicCats: string[][] | null;
  nSpecs: number;
}

function makeColumns(specs: readonly ColumnSpec[], n: number): Column[] {
  return specs.map((s) =>
    s.type === 'category'
      ? { kind: 'categorical', codes: new Int32Array(n), categories: s.allowed ?? [] }
      : s.type === 'string'
        ? { kind: 'string', values: new Array<string | null>(n).fill(null) }
        : { kind: 'numeric', values: new Float64Array(n) },
  );
}

function finish(ctx: Ctx, names: string[], cols: Column[]): { frame: Frame | null; errors: FieldError[] } {
  const { errors, catIndex } = ctx;
  if (errors.length > 0) return { frame: null, errors };
  const dyn = ctx.dynamicCats;
  const finalCols = dyn
    ? cols.map((col, c) =>
        col.kind === 'categorical' && !catIndex[c] ? { ...col, categories: dyn[c] } : col,
      )
    : cols;
  return { frame: new Frame(names, finalCols), errors };
}

/** Validate value v of spec c (column col) for row i into the column, or record its error. */
function putValue(ctx: Ctx, c: number, spec: ColumnSpec, col: Column, i: number, v: unknown): void {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) {
    if (!spec.nullable)
      addError(ctx.errors, ctx.max, {
        index: i,
        field: spec.name,
        rule: v === undefined ? 'required' : 'nullable',
        message: `"${spec.name}" is required${v === null ? ' (null is not allowed)' : ''}`,
      });
    setMissing(col, i);
    return;
  }
  const type = spec.type;
  if (type === 'number' || type === 'integer') {
    const x = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_RE.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(x)) {
      failField(
        ctx.errors,
        ctx.max,
        i,
        spec,
        'type',
        `"${spec.name}" must be ${type === 'integer' ? 'an integer' : 'a number'}`,
        v,
        col,
      );
      return;
    }
    if (type === 'integer' && !Number.isInteger(x)) {
      failField(ctx.errors, ctx.max, i, spec, 'type', `"${spec.name}" must be an integer`, v, col);
      return;
    }
    if (spec.min !== undefined && x < spec.min) {
      failField(ctx.errors, ctx.max, i, spec, 'min', `"${spec.name}" must be >= ${spec.min}`, v, col);
      return;
    }
    if (spec.max !== undefined && x > spec.max) {
      failField(ctx.errors, ctx.max, i, spec, 'max', `"${spec.name}" must be <= ${spec.max}`, v, col);
      return;
    }
    (col as { values: Float64Array }).values[i] = x;
  } else if (type === 'category') {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      failField(ctx.errors, ctx.max, i, spec, 'type', `"${spec.name}" must be a string`, v, col);
      return;
    }
    const str = typeof v === 'string' ? v : String(v);
    const idx = ctx.catIndex[c];
    if (idx) {
      const code = idx.get(str);
      if (code === undefined) {
        failField(
          ctx.errors,
          ctx.max,
          i,
          spec,
          'allowed',
          `"${spec.name}" must be one of: ${spec.allowed!.join(', ')}`,
          v,
          col,
        );
        return;
      }
      (col as { codes: Int32Array }).codes[i] = code;
    } else {
      ctx.dynamicCats ??= Array.from({ length: ctx.nSpecs }, () => []);
      const d = ctx.dynamicCats[c];
      let code = d.indexOf(str);
      if (code < 0) code = d.push(str) - 1;
      (col as { codes: Int32Array }).codes[i] = code;
    }
  } else if (type === 'datetime') {
    const x = typeof v === 'number' ? v : typeof v === 'string' ? parseDatetime(v.trim()) : Number.NaN;
    if (!Number.isFinite(x)) {
      failField(
        ctx.errors,
        ctx.max,
        i,
        spec,
        'type',
        `"${spec.name}" must be an ISO 8601 date or date-time`,
        v,
        col,
      );
      return;
    }
    if (spec.min !== undefined && x < spec.min) {
      failField(
        ctx.errors,
        ctx.max,
        i,
        spec,
        'min',
        `"${spec.name}" must be >= ${new Date(spec.min).toISOString()}`,
        v,
        col,
      );
      return;
    }
    if (spec.max !== undefined && x > spec.max) {
      failField(
        ctx.errors,
        ctx.max,
        i,
        spec,
        'max',
        `"${spec.name}" must be <= ${new Date(spec.max).toISOString()}`,
        v,
        col,
      );
      return;
    }
    (col as { values: Float64Array }).values[i] = x;
  } else if (type === 'boolean') {
    const b = toBool(v);
    if (b === null) {
      failField(ctx.errors, ctx.max, i, spec, 'type', `"${spec.name}" must be true or false`, v, col);
      return;
    }
    (col as { values: Float64Array }).values[i] = b;
  } else {
    if (typeof v !== 'string' && typeof v !== 'number') {
      failField(ctx.errors, ctx.max, i, spec, 'type', `"${spec.name}" must be a string`, v, col);
      return;
    }
    (col as unknown as { values: (string | null)[] }).values[i] = String(v);
  }
}

function addError(errors: FieldError[], max: number, e: FieldError): void {
  if (errors.length < max) errors.push(e);
}

function failField(
  errors: FieldError[],
  max: number,
  i: number,
  spec: ColumnSpec,
  rule: FieldError['rule'],
  message: string,
  value: unknown,
  col: Column,
): void {
  addError(errors, max, { index: i, field: spec.name, rule, message, value });
  setMissing(col, i);
}

function setMissing(col: Column, i: number): void {
  if (col.kind === 'numeric') col.values[i] = Number.NaN;
  else if (col.kind === 'categorical') col.codes[i] = -1;
}

function toBool(v: unknown): number | null {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  if (typeof v === 'string') {
    const l = v.trim().toLowerCase();
    if (l === 'true' || l === 'yes' || l === '1') return 1;
    if (l === 'false' || l === 'no' || l === '0') return 0;
  }
  return null;
}
