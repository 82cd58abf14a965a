/**
 * Typing and validating a table against its schema. Every violation is collected (not just the
 * first): rule, column, count, the first file lines (1-based; line 1 is the header), example
 * values and a severity. A row that breaks a row-level rule (type, range, allowed values, regex,
 * length, missing, unique, target class, and duplicate rows when the schema says `quarantine`)
 * leaves the Frame for the quarantine, with its reasons; those violations are warnings, so the
 * data stays usable. Table-level rules (row counts, target classes, every row quarantined,
 * `max_quarantined`, `duplicate_rows: error`) are errors. Rows in = rows kept + rows quarantined.
 */
import { KeelError } from '../core/errors.js';
import { boundText, parseDatetime } from './datetime.js';
import { type Column, Frame, takeColumn } from './frame.js';
import type { ColumnSpec, Schema } from './schema.js';

export type Severity = 'error' | 'warning';
export interface Violation {
  rule: string;
  column: string | null;
  severity: Severity;
  count: number;
  /** First file lines (1-based; line 1 is the header, so the first data row is usually line 2). */
  rows: number[];
  examples: string[];
  message: string;
  /** The rows breaking this rule went to the quarantine. */
  quarantined: boolean;
}
export interface ValidationReport {
  file: string;
  /** No error-severity violation: the kept rows may be used. */
  ok: boolean;
  /** Data rows read (rows in). */
  rows: number;
  /** Rows in the Frame. */
  kept: number;
  /** Rows moved to the quarantine; rows = kept + quarantined. */
  quarantined: number;
  columns: number;
  violations: Violation[];
}
/** The rows that broke row-level rules, as read (raw cells), with their file lines and reasons. */
export interface Quarantine {
  header: string[];
  rows: string[][];
  lines: number[];
  reasons: string[];
}

const MAX_SAMPLES = 10;
const TRUE = new Set(['true', 'yes', 'y', '1', 't']);
const FALSE = new Set(['false', 'no', 'n', '0', 'f']);
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

class Collector {
  readonly byKey = new Map<string, Violation>();
  /** Per data row: why it is quarantined (undefined when kept). */
  readonly reasons: (string | undefined)[];
  constructor(
    n: number,
    private readonly lines: ArrayLike<number>,
  ) {
    this.reasons = new Array(n);
  }
  add(
    rule: string,
    column: string | null,
    severity: Severity,
    message: string,
    row?: number,
    example?: string,
    quarantined = false,
  ): void {
    const key = `${rule}\u0000${column}`;
    let v = this.byKey.get(key);
    if (!v) {
      v = { rule, column, severity, count: 0, rows: [], examples: [], message, quarantined };
      this.byKey.set(key, v);
    }
    v.count++;
    if (row !== undefined && v.rows.length < MAX_SAMPLES) v.rows.push(this.lines[row]);
    if (example !== undefined && v.examples.length < MAX_SAMPLES) {
      const e = example.length > 80 ? `${example.slice(0, 80)}…` : example;
      if (!v.examples.includes(e)) v.examples.push(e);
    }
  }
  /** A row-level violation: recorded as a warning and the row goes to the quarantine. */
  reject(rule: string, column: string | null, message: string, row: number, raw?: string): void {
    this.add(rule, column, 'warning', message, row, raw, true);
    const shown =
      raw === undefined ? '' : ` ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)}`;
    const reason = `${column ? `${column}: ` : ''}${rule}${shown}`;
    const prev = this.reasons[row];
    this.reasons[row] = prev === undefined ? reason : `${prev}; ${reason}`;
  }
}

/**
 * The structural checks of both CSV readers (this one and csv-stream's): the target and every
 * declared column are in the header, or a clear error.
 */
export function checkColumns(header: readonly string[], schema: Schema, file: string): void {
  const index = new Set(header);
  const target = schema.target?.column;
  if (target && !index.has(target))
    throw new KeelError(
      'KEEL_E_TARGET',
      `${file} has no target column "${target}" (columns: ${header.join(', ')})`,
      { file, column: target, rule: 'target_present' },
    );
  const missingCols = schema.columns.filter((c) => !index.has(c.name)).map((c) => c.name);
  if (missingCols.length)
    throw new KeelError(
      'KEEL_E_VALIDATION',
      `${file} lacks the column${missingCols.length > 1 ? 's' : ''} ${missingCols.map((c) => `"${c}"`).join(', ')} required by the schema`,
      { file, column: missingCols[0], rule: 'column_present' },
    );
}

/**
 * Build a typed Frame from raw text cells under a schema and report every violation. The Frame
 * holds the kept rows only; the others are in `quarantine`. `lines` are the file lines where the
 * rows start (default: the header on line 1 and one line per row). Throws only for structural
 * problems (a declared column or the target missing from the data).
 */
export function typeAndValidate(
  header: string[],
  rows: string[][],
  schema: Schema,
  file: string,
  lines?: ArrayLike<number>,
): { frame: Frame; report: ValidationReport; quarantine: Quarantine } {
  const index = new Map(header.map((h, i) => [h, i]));
  const target = schema.target?.column;
  checkColumns(header, schema, file);
  const n = rows.length;
  const lineOf = lines ?? Int32Array.from({ length: n }, (_, r) => r + 2);
  const col = new Collector(n, lineOf);
  const declared = new Set(schema.columns.map((c) => c.name));
  for (const h of header)
    if (!declared.has(h))
      col.add('unexpected_column', h, 'warning', `column "${h}" is not in the schema and is ignored`);
  const missing = new Set(schema.missing_values.map((m) => m.trim()));
  const names: string[] = [];
  const columns: Column[] = [];
  for (const spec of schema.columns) {
    const k = index.get(spec.name)!;
    names.push(spec.name);
    columns.push(typeColumn(spec, rows, k, missing, col, spec.name === target ? schema.target : undefined));
  }
  checkDuplicateRows(
    schema,
    rows,
    [...declared].map((c) => index.get(c)!),
    col,
  );

  let kept = 0;
  for (let r = 0; r < n; r++) if (col.reasons[r] === undefined) kept++;
  const quarantine: Quarantine = { header: [...header], rows: [], lines: [], reasons: [] };
  const keep = new Int32Array(kept);
  for (let r = 0, j = 0; r < n; r++) {
    const why = col.reasons[r];
    if (why === undefined) keep[j++] = r;
    else {
      quarantine.rows.push(rows[r]);
      quarantine.lines.push(lineOf[r]);
      quarantine.reasons.push(why);
    }
  }
  if (kept + quarantine.rows.length !== n)
    throw new KeelError(
      'KEEL_E_INTERNAL',
      `${file}: ${n} rows in but ${kept} kept + ${quarantine.rows.length} quarantined`,
    );
  const all = kept === n ? columns : columns.map((c) => takeColumn(c, keep));

  // table-level rules, on the kept rows
  if (target && schema.target) {
    const codes = (all[names.indexOf(target)] as { codes: Int32Array }).codes;
    const seen = new Set(codes);
    const absent = schema.target.classes.filter((_, i) => !seen.has(i));
    if (absent.length)
      col.add(
        'target_classes',
        target,
        'error',
        `the target "${target}" never takes the class(es) ${absent.join(', ')} in the kept rows`,
      );
  }
  if (n > 0 && kept === 0) col.add('rows_kept', null, 'error', `every one of the ${n} rows was quarantined`);
  if (schema.max_quarantined !== undefined && n > 0 && quarantine.rows.length / n > schema.max_quarantined)
    col.add(
      'max_quarantined',
      null,
      'error',
      `${quarantine.rows.length} of ${n} rows quarantined (${pct(quarantine.rows.length / n)}), the schema allows at most ${pct(schema.max_quarantined)}`,
    );
  if (schema.rows?.min !== undefined && kept < schema.rows.min)
    col.add('row_count', null, 'error', `${kept} rows kept, the schema wants at least ${schema.rows.min}`);
  if (schema.rows?.max !== undefined && kept > schema.rows.max)
    col.add('row_count', null, 'error', `${kept} rows kept, the schema allows at most ${schema.rows.max}`);
  const violations = [...col.byKey.values()];
  const report: ValidationReport = {
    file,
    ok: violations.every((v) => v.severity !== 'error'),
    rows: n,
    kept,
    quarantined: quarantine.rows.length,
    columns: header.length,
    violations,
  };
  return { frame: new Frame(names, all), report, quarantine };
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

function checkDuplicateRows(schema: Schema, rows: string[][], ks: number[], col: Collector): void {
  const mode = schema.duplicate_rows ?? 'warning';
  if (mode === 'allow') return;
  const seen = new Map<string, number>();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const key = ks.map((k) => row[k].trim()).join('\u0000');
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, r);
      continue;
    }
    const msg = 'the row repeats an earlier row in every declared column';
    if (mode === 'quarantine') col.reject('duplicate_row', null, msg, r);
    else col.add('duplicate_row', null, mode === 'error' ? 'error' : 'warning', msg, r);
  }
}

function typeColumn(
  spec: ColumnSpec,
  rows: string[][],
  k: number,
  missing: Set<string>,
  col: Collector,
  target?: Schema['target'],
): Column {
  const n = rows.length;
  const name = spec.name;
  const isMissing = (raw: string) => missing.has(raw.trim());
  const re = spec.regex === undefined ? null : new RegExp(`^(?:${spec.regex})$`);
  let nMissing = 0;
  /** The checks on the text of a present cell common to every type; false when the row is rejected. */
  const textOk = (r: number, raw: string): boolean => {
    if (spec.max_length !== undefined && raw.length > spec.max_length) {
      col.reject('max_length', name, `"${name}" must be at most ${spec.max_length} characters`, r, raw);
      return false;
    }
    if (re && !re.test(raw.trim())) {
      col.reject('regex', name, `"${name}" must match /${spec.regex}/`, r, raw);
      return false;
    }
    return true;
  };
  const onMissing = (r: number) => {
    nMissing++;
    if (target) col.reject('target_missing', name, `the target "${name}" must not be missing`, r, rows[r][k]);
    else if (!spec.nullable) col.reject('not_null', name, `"${name}" must not be missing`, r, rows[r][k]);
  };
  const done = <C extends Column>(c: C): C => {
    if (n > 0 && nMissing === n) col.add('all_missing', name, 'warning', `"${name}" is missing in every row`);
    return c;
  };
  if (
    spec.type === 'number' ||
    spec.type === 'integer' ||
    spec.type === 'boolean' ||
    spec.type === 'datetime'
  ) {
    const values = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const raw = rows[r][k];
      values[r] = Number.NaN;
      if (isMissing(raw)) {
        onMissing(r);
        continue;
      }
      if (!textOk(r, raw)) continue;
      const t = raw.trim();
      let v: number;
      if (spec.type === 'boolean') {
        const l = t.toLowerCase();
        v = TRUE.has(l) ? 1 : FALSE.has(l) ? 0 : Number.NaN;
      } else if (spec.type === 'datetime') v = parseDatetime(t);
      else v = NUMBER_RE.test(t) ? Number(t) : Number.NaN;
      if (!Number.isFinite(v)) {
        col.reject('type', name, `"${name}" must be ${article(spec.type)}`, r, raw);
        continue;
      }
      if (spec.type === 'integer' && !Number.isInteger(v)) {
        col.reject('type', name, `"${name}" must be an integer`, r, raw);
        continue;
      }
      if (spec.min !== undefined && v < spec.min) {
        col.reject('min', name, `"${name}" must be >= ${boundText(spec.type, spec.min)}`, r, raw);
        continue;
      }
      if (spec.max !== undefined && v > spec.max) {
        col.reject('max', name, `"${name}" must be <= ${boundText(spec.type, spec.max)}`, r, raw);
        continue;
      }
      values[r] = v;
    }
    if (spec.unique) checkUnique(name, n, (r) => (Number.isNaN(values[r]) ? null : String(values[r])), col);
    return done({ kind: 'numeric', values });
  }
  if (spec.type === 'category') {
    const allowed = target ? target.classes : spec.allowed;
    const dict = allowed ? [...allowed] : [];
    const codeOf = new Map(dict.map((c, i) => [c, i]));
    const codes = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const raw = rows[r][k];
      codes[r] = -1;
      if (isMissing(raw)) {
        onMissing(r);
        continue;
      }
      if (!textOk(r, raw)) continue;
      const t = raw.trim();
      let code = codeOf.get(t);
      if (code === undefined) {
        if (allowed) {
          if (target)
            col.reject(
              'target_class',
              name,
              `the target "${name}" must be one of ${allowed.join(', ')}`,
              r,
              raw,
            );
          else col.reject('allowed', name, `"${name}" must be one of ${allowed.join(', ')}`, r, raw);
          continue;
        }
        code = dict.length;
        dict.push(t);
        codeOf.set(t, code);
      }
      codes[r] = code;
    }
    if (spec.unique) checkUnique(name, n, (r) => (codes[r] < 0 ? null : String(codes[r])), col);
    if (!allowed) {
      // without a fixed list, order categories alphabetically for stable codes
      const sorted = [...dict].sort();
      const remap = Int32Array.from(dict, (c) => sorted.indexOf(c));
      for (let r = 0; r < n; r++) if (codes[r] >= 0) codes[r] = remap[codes[r]];
      return done({ kind: 'categorical', codes, categories: sorted });
    }
    return done({ kind: 'categorical', codes, categories: dict });
  }
  // string
  const values: (string | null)[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const raw = rows[r][k];
    values[r] = null;
    if (isMissing(raw)) onMissing(r);
    else if (textOk(r, raw)) values[r] = raw;
  }
  if (spec.unique) checkUnique(name, n, (r) => values[r], col);
  return done({ kind: 'string', values });
}

function checkUnique(name: string, n: number, key: (r: number) => string | null, col: Collector): void {
  const seen = new Set<string>();
  for (let r = 0; r < n; r++) {
    const v = key(r);
    if (v === null) continue;
    if (seen.has(v)) col.reject('unique', name, `"${name}" must be unique`, r, v);
    seen.add(v);
  }
}

/** The type a value failed to be, as the type rule's message names it (both CSV readers). */
export function article(type: string): string {
  return type === 'integer'
    ? 'an integer'
    : type === 'boolean'
      ? 'a boolean (true/false, yes/no, 1/0)'
      : type === 'datetime'
        ? 'an ISO 8601 date or date-time (2026-12-01, 2026-12-01T18:30:00Z)'
        : 'a finite number';
}
