/**
 * Schema: what a table must look like. Written as YAML (`schema.yaml`), validated with zod.
 * The same column specs become a model's input signature, so a served model checks requests
 * with exactly the rules that training data was checked with.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KeelError } from '../core/errors.js';
import { parseDatetime } from './datetime.js';

export const columnTypes = ['number', 'integer', 'boolean', 'category', 'string', 'datetime'] as const;
export type ColumnType = (typeof columnTypes)[number];

/** A number, or an ISO 8601 date(-time) read as epoch milliseconds (datetime bounds). */
const bound = z.union([z.number(), z.string()]).transform((t, ctx) => {
  if (typeof t === 'number') return t;
  const v = parseDatetime(t);
  if (Number.isNaN(v)) {
    ctx.addIssue({ code: 'custom', message: `"${t}" is neither a number nor an ISO 8601 date` });
    return z.NEVER;
  }
  return v;
});

export const ColumnSpecSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(columnTypes),
    /** Missing values allowed (default false). */
    nullable: z.boolean().default(false),
    /** Bounds; for a datetime column an ISO 8601 text or epoch milliseconds. */
    min: bound.optional(),
    max: bound.optional(),
    /** Allowed values of a category column. */
    allowed: z.array(z.string()).optional(),
    /** Every non-missing value must be distinct (ids); later repeats are quarantined. */
    unique: z.boolean().optional(),
    /** Every non-missing value must match this regular expression (whole cell, JavaScript syntax). */
    regex: z.string().refine(isRegex, { message: 'not a valid regular expression' }).optional(),
    /** The longest cell text allowed, in characters. */
    max_length: z.number().int().positive().optional(),
    /**
     * Distribution expectations on the kept rows: bounds on the mean and the standard deviation
     * (numbers), and the largest population stability index against a reference profile.
     */
    expect: z
      .object({
        mean: z.object({ min: z.number().optional(), max: z.number().optional() }).strict().optional(),
        std: z.object({ min: z.number().optional(), max: z.number().optional() }).strict().optional(),
        max_psi: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    /** feature (default), id (kept for reference, never a model input) or ignore. */
    role: z.enum(['feature', 'id', 'ignore']).default('feature'),
    description: z.string().optional(),
  })
  .strict();
export type ColumnSpec = z.infer<typeof ColumnSpecSchema>;
export type ColumnSpecInput = z.input<typeof ColumnSpecSchema>;

export const TargetSpecSchema = z
  .object({
    column: z.string().min(1),
    /** The class that counts as positive (probabilities are of this class). */
    positive: z.string(),
    /** The expected classes; any other value is an error. */
    classes: z.array(z.string()).min(2),
  })
  .strict();
export type TargetSpec = z.infer<typeof TargetSpecSchema>;

export const SchemaSchema = z
  .object({
    name: z.string().optional(),
    /** Cell texts that mean missing (after trimming whitespace). Default: the empty string. */
    missing_values: z.array(z.string()).default(['']),
    target: TargetSpecSchema.optional(),
    columns: z.array(ColumnSpecSchema).min(1),
    /** Bounds on the number of data rows. */
    rows: z
      .object({ min: z.number().int().nonnegative().optional(), max: z.number().int().positive().optional() })
      .strict()
      .optional(),
    /**
     * Rows identical in every declared column: `warning` (default) records them, `quarantine`
     * moves every repeat after the first to the quarantine file, `error` rejects the table,
     * `allow` says nothing.
     */
    duplicate_rows: z.enum(['allow', 'warning', 'quarantine', 'error']).optional(),
    /** Reject the table when more than this fraction of its rows is quarantined (default 1: never). */
    max_quarantined: z.number().min(0).max(1).optional(),
  })
  .strict();
export type Schema = z.infer<typeof SchemaSchema>;
export type SchemaInput = z.input<typeof SchemaSchema>;

function isRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** Validate a schema object; errors name the key path and what was expected. */
export function parseSchema(input: unknown, file?: string): Schema {
  const r = SchemaSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new KeelError('KEEL_E_SCHEMA', `invalid schema${file ? ` in ${file}` : ''}: ${issues.join('; ')}`, {
      file,
      path: r.error.issues[0]?.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    });
  }
  const schema = r.data;
  const names = new Set<string>();
  for (const c of schema.columns) {
    if (names.has(c.name))
      throw new KeelError('KEEL_E_SCHEMA', `column "${c.name}" is declared twice`, { file, column: c.name });
    names.add(c.name);
  }
  if (schema.target) {
    const t = schema.target;
    if (!names.has(t.column))
      throw new KeelError('KEEL_E_SCHEMA', `target column "${t.column}" is not among the columns`, {
        file,
        column: t.column,
      });
    if (!t.classes.includes(t.positive))
      throw new KeelError('KEEL_E_SCHEMA', `target.positive "${t.positive}" is not one of target.classes`, {
        file,
        path: ['target', 'positive'],
      });
  }
  return schema;
}

export function loadSchema(path: string): Schema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new KeelError('KEEL_E_FILE_NOT_FOUND', `schema file not found: ${path}`, { file: path });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KeelError('KEEL_E_SCHEMA', `schema ${path} is not valid YAML: ${(e as Error).message}`, {
      file: path,
    });
  }
  return parseSchema(doc, path);
}

/** The columns a model takes as input: features, not the target, ids or ignored columns. */
export function featureSpecs(schema: Schema): ColumnSpec[] {
  return schema.columns.filter((c) => c.role === 'feature' && c.name !== schema.target?.column);
}
