/**
 * Typing and validating a table against its schema. Every violation is collected (not just the
 * first): rule, column, count, the first data rows (1-based, the header not counted) and example
 * values. Cells that break a rule become missing in the Frame; whether the data may be used is
 * the report's `ok` (no error-severity violation).
 */
import { KeelError } from '../core/errors.js';
import { type Column, Frame } from './frame.js';
import type { ColumnSpec, Schema } from './schema.js';

export type Severity = 'error' | 'warning';
export interface Violation {
  rule: string;
  column: string | null;
  severity: Severity;
  count: number;
  /** First data rows (1-based; row 1 is the first line after the header). */
  rows: number[];
  examples: string[];
  message: string;
}
export interface ValidationReport {
  ok: boolean;
  rows: number;
  columns: number;
  violations: Violation[];
}

const MAX_SAMPLES = 10;
const TRUE = new Set(['true', 'yes', 'y', '1', 't']);
const FALSE = new Set(['false', 'no', 'n', '0', 'f']);
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

class Collector {
  readonly byKey = new Map<string, Violation>();
  add(
    rule: string,
    column: string | null,
    severity: Severity,
    message: string,
    row?: number,
    example?: string,
  ): void {
    const key = `${rule}\u0000${column}`;
    let v = this.byKey.get(key);
    if (!v) {
      v = { rule, column, severity, count: 0, rows: [], examples: [], message };
      this.byKey.set(key, v);
    }
    v.count++;
    if (row !== undefined && v.rows.length < MAX_SAMPLES) v.rows.push(row);
    if (example !== undefined && v.examples.length < MAX_SAMPLES && !v.examples.includes(example))
      v.examples.push(example.slice(0, 80));
  }
  report(rows: number, columns: number): ValidationReport {
    const violations = [...this.byKey.values()];
    return { ok: violations.every((v) => v.severity !== 'error'), rows, columns, violations };
  }
}

/**
 * Build a typed Frame from raw text cells under a schema and report every violation.
 * Throws only for structural problems (a declared column missing from the data).
 */
export function typeAndValidate(
  header: string[],
  rows: string[][],
  schema: Schema,
  file: string,
): { frame: Frame; report: ValidationReport } {
  const index = new Map(header.map((h, i) => [h, i]));
  const target = schema.target?.column;
  if (target && !index.has(target))
    throw new KeelError(
      'KEEL_E_TARGET',
      `${file} has no target column "${target}" (columns: ${header.join(', ')})`,
      { file, column: target },
    );
  const missingCols = schema.columns.filter((c) => !index.has(c.name)).map((c) => c.name);
  if (missingCols.length)
    throw new KeelError(
      'KEEL_E_VALIDATION',
      `${file} lacks the column${missingCols.length > 1 ? 's' : ''} ${missingCols.map((c) => `"${c}"`).join(', ')} required by the schema`,
      {
        file,
        column: missingCols[0],
        rule: 'column_present',
      },
    );
  const col = new Collector();
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
  const n = rows.length;
  if (schema.rows?.min !== undefined && n < schema.rows.min)
    col.add('row_count', null, 'error', `${n} data rows, the schema wants at least ${schema.rows.min}`);
  if (schema.rows?.max !== undefined && n > schema.rows.max)
    col.add('row_count', null, 'error', `${n} data rows, the schema allows at most ${schema.rows.max}`);
  return { frame: new Frame(names, columns), report: col.report(n, header.length) };
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
  const nullCheck = (r: number) => {
    if (!spec.nullable)
      col.add('not_null', name, 'error', `"${name}" must not be missing`, r + 1, rows[r][k]);
  };
  if (spec.type === 'number' || spec.type === 'integer' || spec.type === 'boolean') {
    const values = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const raw = rows[r][k];
      if (isMissing(raw)) {
        values[r] = Number.NaN;
        nullCheck(r);
        continue;
      }
      const t = raw.trim();
      let v: number;
      if (spec.type === 'boolean') {
        const l = t.toLowerCase();
        v = TRUE.has(l) ? 1 : FALSE.has(l) ? 0 : Number.NaN;
      } else v = NUMBER_RE.test(t) ? Number(t) : Number.NaN;
      if (Number.isNaN(v) || !Number.isFinite(v)) {
        col.add('type', name, 'error', `"${name}" must be ${article(spec.type)}`, r + 1, raw);
        values[r] = Number.NaN;
        continue;
      }
      if (spec.type === 'integer' && !Number.isInteger(v)) {
        col.add('type', name, 'error', `"${name}" must be an integer`, r + 1, raw);
        values[r] = Number.NaN;
        continue;
      }
      if (spec.min !== undefined && v < spec.min) {
        col.add('min', name, 'error', `"${name}" must be >= ${spec.min}`, r + 1, raw);
        values[r] = Number.NaN;
        continue;
      }
      if (spec.max !== undefined && v > spec.max) {
        col.add('max', name, 'error', `"${name}" must be <= ${spec.max}`, r + 1, raw);
        values[r] = Number.NaN;
        continue;
      }
      values[r] = v;
    }
    if (spec.unique) checkUnique(name, n, (r) => (Number.isNaN(values[r]) ? null : String(values[r])), col);
    return { kind: 'numeric', values };
  }
  if (spec.type === 'category') {
    const allowed = target ? target.classes : spec.allowed;
    const dict = allowed ? [...allowed] : [];
    const codeOf = new Map(dict.map((c, i) => [c, i]));
    const codes = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const raw = rows[r][k];
      if (isMissing(raw)) {
        codes[r] = -1;
        if (target)
          col.add('target_missing', name, 'error', `the target "${name}" must not be missing`, r + 1, raw);
        else nullCheck(r);
        continue;
      }
      const t = raw.trim();
      let code = codeOf.get(t);
      if (code === undefined) {
        if (allowed) {
          const rule = target ? 'target_class' : 'allowed';
          const msg = target
            ? `the target "${name}" must be one of ${allowed.join(', ')}`
            : `"${name}" must be one of ${allowed.join(', ')}`;
          col.add(rule, name, 'error', msg, r + 1, raw);
          codes[r] = -1;
          continue;
        }
        code = dict.length;
        dict.push(t);
        codeOf.set(t, code);
      }
      codes[r] = code;
    }
    if (target) {
      const seen = new Set(codes);
      const absent = target.classes.filter((_, i) => !seen.has(i));
      if (absent.length)
        col.add(
          'target_classes',
          name,
          'error',
          `the target "${name}" never takes the class(es) ${absent.join(', ')}`,
        );
    }
    if (spec.unique) checkUnique(name, n, (r) => (codes[r] < 0 ? null : String(codes[r])), col);
    if (!allowed) {
      // without a fixed list, order categories alphabetically for stable codes
      const sorted = [...dict].sort();
      const remap = Int32Array.from(dict, (c) => sorted.indexOf(c));
      for (let r = 0; r < n; r++) if (codes[r] >= 0) codes[r] = remap[codes[r]];
      return { kind: 'categorical', codes, categories: sorted };
    }
    return { kind: 'categorical', codes, categories: dict };
  }
  // string
  const values: (string | null)[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const raw = rows[r][k];
    if (isMissing(raw)) {
      values[r] = null;
      nullCheck(r);
    } else values[r] = raw;
  }
  if (spec.unique) checkUnique(name, n, (r) => values[r], col);
  return { kind: 'string', values };
}

function checkUnique(name: string, n: number, key: (r: number) => string | null, col: Collector): void {
  const seen = new Set<string>();
  for (let r = 0; r < n; r++) {
    const v = key(r);
    if (v === null) continue;
    if (seen.has(v)) col.add('unique', name, 'error', `"${name}" must be unique`, r + 1, v);
    seen.add(v);
  }
}

function article(type: string): string {
  return type === 'integer'
    ? 'an integer'
    : type === 'boolean'
      ? 'a boolean (true/false, yes/no, 1/0)'
      : 'a number';
}

/** The report as text: one block per violation naming the file, column, rule, count, rows and examples. */
export function formatReport(report: ValidationReport, file: string): string {
  const errors = report.violations.filter((v) => v.severity === 'error').length;
  const warnings = report.violations.length - errors;
  const head = `${file}: ${report.rows} rows, ${report.ok ? 'usable' : 'REJECTED'} (${errors} error rule${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`;
  const lines = report.violations.map((v) => {
    const rows = v.rows.length ? `; rows ${v.rows.join(', ')}${v.count > v.rows.length ? ', …' : ''}` : '';
    const ex = v.examples.length ? `; e.g. ${v.examples.map((e) => JSON.stringify(e)).join(', ')}` : '';
    return `  ${v.severity === 'error' ? 'error  ' : 'warning'} ${v.column ? `column "${v.column}" ` : ''}[${v.rule}] ${v.message}: ${v.count} row${v.count === 1 ? '' : 's'}${rows}${ex}`;
  });
  return [head, ...lines].join('\n');
}

/** Throw KEEL_E_VALIDATION listing every error-severity violation when the report rejects the data. */
export function assertValid(report: ValidationReport, file: string): void {
  if (report.ok) return;
  const errors = report.violations.filter((v) => v.severity === 'error');
  // locate the error at the earliest row (table-level ones, without rows, come last)
  const first = errors.reduce((a, b) =>
    (b.rows[0] ?? Number.POSITIVE_INFINITY) < (a.rows[0] ?? Number.POSITIVE_INFINITY) ? b : a,
  );
  const list = errors
    .map(
      (v) =>
        `column "${v.column ?? '-'}" [${v.rule}] ${v.count} row${v.count === 1 ? '' : 's'} (first: row ${v.rows[0] ?? '-'}${v.examples[0] !== undefined ? `, value ${JSON.stringify(v.examples[0])}` : ''})`,
    )
    .join('; ');
  throw new KeelError(
    'KEEL_E_VALIDATION',
    `${file} failed validation: ${list}`,
    { file, row: first.rows[0], column: first.column ?? undefined, rule: first.rule },
    { details: report },
  );
}
