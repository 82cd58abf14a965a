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
}

const NUMBER_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** What a signature needs per request, built once per specs array (signatures are long-lived). */
interface Compiled {
  names: string[];
  known: Set<string>;
  catIndex: (Map<string, number> | null)[];
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
  const { names, known, catIndex } = compile(specs);
  const nSpecs = specs.length;
  const cols: Column[] = specs.map((s) =>
    s.type === 'category'
      ? { kind: 'categorical', codes: new Int32Array(n), categories: s.allowed ?? [] }
      : s.type === 'string'
        ? { kind: 'string', values: new Array<string | null>(n).fill(null) }
        : { kind: 'numeric', values: new Float64Array(n) },
  );
  let dynamicCats: string[][] | null = null;
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
    for (let c = 0; c < nSpecs; c++) {
      const spec = specs[c];
      const col = cols[c];
      const v = obj[names[c]];
      if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) {
        if (!spec.nullable)
          addError(errors, max, {
            index: i,
            field: spec.name,
            rule: v === undefined ? 'required' : 'nullable',
            message: `"${spec.name}" is required${v === null ? ' (null is not allowed)' : ''}`,
          });
        setMissing(col, i);
        continue;
      }
      const type = spec.type;
      if (type === 'number' || type === 'integer') {
        const x =
          typeof v === 'number' ? v : typeof v === 'string' && NUMBER_RE.test(v) ? Number(v) : Number.NaN;
        if (!Number.isFinite(x)) {
          failField(
            errors,
            max,
            i,
            spec,
            'type',
            `"${spec.name}" must be ${type === 'integer' ? 'an integer' : 'a number'}`,
            v,
            col,
          );
          continue;
        }
        if (type === 'integer' && !Number.isInteger(x)) {
          failField(errors, max, i, spec, 'type', `"${spec.name}" must be an integer`, v, col);
          continue;
        }
        if (spec.min !== undefined && x < spec.min) {
          failField(errors, max, i, spec, 'min', `"${spec.name}" must be >= ${spec.min}`, v, col);
          continue;
        }
        if (spec.max !== undefined && x > spec.max) {
          failField(errors, max, i, spec, 'max', `"${spec.name}" must be <= ${spec.max}`, v, col);
          continue;
        }
        (col as { values: Float64Array }).values[i] = x;
      } else if (type === 'category') {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          failField(errors, max, i, spec, 'type', `"${spec.name}" must be a string`, v, col);
          continue;
        }
        const str = typeof v === 'string' ? v : String(v);
        const idx = catIndex[c];
        if (idx) {
          const code = idx.get(str);
          if (code === undefined) {
            failField(
              errors,
              max,
              i,
              spec,
              'allowed',
              `"${spec.name}" must be one of: ${spec.allowed!.join(', ')}`,
              v,
              col,
            );
            continue;
          }
          (col as { codes: Int32Array }).codes[i] = code;
        } else {
          dynamicCats ??= specs.map(() => []);
          const d = dynamicCats[c];
          let code = d.indexOf(str);
          if (code < 0) code = d.push(str) - 1;
          (col as { codes: Int32Array }).codes[i] = code;
        }
      } else if (type === 'datetime') {
        const x = typeof v === 'number' ? v : typeof v === 'string' ? parseDatetime(v.trim()) : Number.NaN;
        if (!Number.isFinite(x)) {
          failField(
            errors,
            max,
            i,
            spec,
            'type',
            `"${spec.name}" must be an ISO 8601 date or date-time`,
            v,
            col,
          );
          continue;
        }
        if (spec.min !== undefined && x < spec.min) {
          failField(
            errors,
            max,
            i,
            spec,
            'min',
            `"${spec.name}" must be >= ${new Date(spec.min).toISOString()}`,
            v,
            col,
          );
          continue;
        }
        if (spec.max !== undefined && x > spec.max) {
          failField(
            errors,
            max,
            i,
            spec,
            'max',
            `"${spec.name}" must be <= ${new Date(spec.max).toISOString()}`,
            v,
            col,
          );
          continue;
        }
        (col as { values: Float64Array }).values[i] = x;
      } else if (type === 'boolean') {
        const b = toBool(v);
        if (b === null) {
          failField(errors, max, i, spec, 'type', `"${spec.name}" must be true or false`, v, col);
          continue;
        }
        (col as { values: Float64Array }).values[i] = b;
      } else {
        if (typeof v !== 'string' && typeof v !== 'number') {
          failField(errors, max, i, spec, 'type', `"${spec.name}" must be a string`, v, col);
          continue;
        }
        (col as unknown as { values: (string | null)[] }).values[i] = String(v);
      }
    }
  }
  if (errors.length > 0) return { frame: null, errors };
  const dyn = dynamicCats;
  const finalCols = dyn
    ? cols.map((col, c) =>
        col.kind === 'categorical' && !catIndex[c] ? { ...col, categories: dyn[c] } : col,
      )
    : cols;
  return { frame: new Frame(names, finalCols), errors };
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
