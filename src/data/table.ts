/**
 * readTable: one entry point for tabular files, dispatching on the extension. CSV and TSV go
 * through Keel's strict parser (DuckDB's read_csv silently reshapes malformed files); Parquet,
 * JSON (an array of objects, or one object per line) and NDJSON / JSONL, and globs of them, are
 * read by DuckDB. Cells then go through the same typing, validation and quarantine as CSV, so the
 * schema overrides DuckDB's types. Without a schema, DuckDB's numeric and boolean types are kept
 * and text columns are inferred. Row numbers in reports are 1-based record numbers. A
 * `postgres://…?table=NAME` or `?query=…` source reads a table or query (see postgres-source.ts).
 */
import { createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { KeelError } from '../core/errors.js';
import { sha256File } from '../core/hash.js';
import { fileSource } from './csv-stream.js';
import { isDvcFile, resolveDvc } from './dvc-source.js';
import { checkExpectations } from './expectations.js';
import { inferSchemaFromRows } from './infer.js';
import { isPostgresSource, readPostgres } from './postgres-source.js';
import type { DataProfile } from './profile.js';
import { type CsvOptions, concatSource, type ReadResult, readCsv, readCsvSource } from './read.js';
import { quarantineCsv } from './report.js';
import { isGlob, isS3Url, s3Glob, s3GlobToTempDir, s3Object, s3ToTempFile } from './s3-source.js';
import type { ColumnType, Schema } from './schema.js';
import { typeAndValidate } from './validate.js';

export type TableFormat = 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson';

/** The format a path's extension names (a glob's pattern counts), or null. */
export function tableFormat(path: string): TableFormat | null {
  const m = /\.([A-Za-z]+)(\.gz)?$/.exec(path);
  switch (m?.[1].toLowerCase()) {
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'parquet':
    case 'pq':
      return 'parquet';
    case 'json':
      return 'json';
    case 'ndjson':
    case 'jsonl':
      return 'ndjson';
    default:
      return null;
  }
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMBER = /^(FLOAT|DOUBLE|DECIMAL.*)$/;

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x));
}

/** How readTable reads: `format` overrides the extension; the CSV options apply to CSV and TSV. */
export interface ReadTableOptions extends CsvOptions {
  format?: TableFormat;
}

/**
 * Read a tabular file (or glob) into a typed Frame under a schema (inferred when not given),
 * with the validation report and quarantine. `format` overrides the extension.
 */
export async function readTable(
  path: string,
  schema?: Schema,
  options: ReadTableOptions = {},
): Promise<ReadResult> {
  const how = { streamed: false };
  const result = await readAny(path, schema, options, how);
  // the readers that do not stream (DuckDB's, PostgreSQL's) keep their quarantine in memory: write it now
  if (options.quarantineFile && !how.streamed)
    writeFileSync(options.quarantineFile, quarantineCsv(result.quarantine));
  return result;
}

/** The CSV reader's options for a table of this format (a TSV's delimiter is the tab). */
function csvOptionsOf(options: ReadTableOptions, format: TableFormat): CsvOptions {
  return {
    delimiter: options.delimiter ?? (format === 'tsv' ? '\t' : ','),
    reference: options.reference,
    quarantineFile: options.quarantineFile,
    header: options.header,
    engine: options.engine,
  };
}

async function readAny(
  path: string,
  schema: Schema | undefined,
  options: ReadTableOptions,
  how: { streamed: boolean },
): Promise<ReadResult> {
  if (isPostgresSource(path)) return readPostgres(path, schema, { reference: options.reference });
  if (isDvcFile(path)) {
    const target = await resolveDvc(path);
    const format = options.format ?? tableFormat(target.path);
    if (format === null)
      throw new KeelError('KEEL_E_USAGE', `${target.path} (${path}): unknown file type`, {
        file: target.path,
      });
    how.streamed = format === 'csv' || format === 'tsv';
    if (format === 'csv' || format === 'tsv')
      return readCsvSource(
        fileSource(target.object, statSync(target.object).size),
        target.path,
        schema,
        csvOptionsOf(options, format),
      );
    return readWithDuckDB(target.object, format, schema, options.reference, target.path);
  }
  const format = options.format ?? tableFormat(path);
  if (format === null)
    throw new KeelError(
      'KEEL_E_USAGE',
      `${path}: unknown file type; use .csv, .tsv, .parquet, .json, .ndjson or .jsonl (or name the format)`,
      { file: path },
    );
  const csvOptions = csvOptionsOf(options, format);
  if (isS3Url(path)) {
    if (isGlob(path)) {
      const objects = await s3Glob(path);
      how.streamed = format === 'csv' || format === 'tsv';
      if (format === 'csv' || format === 'tsv') {
        // each object streamed from its body in key order, as one CSV (concatSource)
        const parts = objects.map((o) => ({
          name: o.url,
          size: o.size,
          chunks: async function* () {
            yield* (await s3Object(o.url)).body;
          },
        }));
        return readCsvSource(concatSource(path, parts), path, schema, csvOptions);
      }
      const tmp = await s3GlobToTempDir(objects, `.${format}`);
      try {
        return await readWithDuckDB(tmp.pattern, format, schema, options.reference, path);
      } finally {
        tmp.cleanup();
      }
    }
    how.streamed = format === 'csv' || format === 'tsv';
    if ((format === 'csv' || format === 'tsv') && schema) {
      // streamed straight from the object's body
      const { body, size } = await s3Object(path);
      return readCsvSource({ size: size || undefined, chunks: () => body }, path, schema, csvOptions);
    }
    const tmp = await s3ToTempFile(path, `.${format}`);
    try {
      if (format === 'csv' || format === 'tsv')
        return await readCsvSource(fileSource(tmp.path, statSync(tmp.path).size), path, schema, csvOptions);
      return await readWithDuckDB(tmp.path, format, schema, options.reference, path);
    } finally {
      tmp.cleanup();
    }
  }
  how.streamed = format === 'csv' || format === 'tsv';
  if (format === 'csv' || format === 'tsv') return readCsv(path, schema, csvOptions);
  return readWithDuckDB(path, format, schema, options.reference);
}

async function readWithDuckDB(
  path: string,
  format: 'parquet' | 'json' | 'ndjson',
  schema?: Schema,
  reference?: DataProfile,
  /** How the data is named in reports and errors (the S3 URL of a downloaded object). */
  label = path,
): Promise<ReadResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const listed = await con.runAndReadAll(`SELECT file FROM glob(${sqlString(path)}) ORDER BY file`);
    const files = (listed.getColumnsJS()[0] ?? []).map(String);
    if (files.length === 0)
      throw new KeelError('KEEL_E_FILE_NOT_FOUND', `data file not found: ${label}`, { file: label });
    let bytes = 0;
    const hashes: string[] = [];
    for (const f of files) {
      bytes += (await stat(f)).size;
      hashes.push(await sha256File(f));
    }
    if (bytes === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${label} is empty`, { file: label });
    const reader =
      format === 'parquet'
        ? `read_parquet(${sqlString(path)})`
        : `read_json_auto(${sqlString(path)}, format = ${format === 'ndjson' ? "'newline_delimited'" : "'auto'"})`;
    let result: Awaited<ReturnType<typeof con.runAndReadAll>>;
    try {
      result = await con.runAndReadAll(`SELECT * FROM ${reader}`);
    } catch (e) {
      throw new KeelError(
        'KEEL_E_PARSE',
        `${label} could not be read as ${format}: ${(e as Error).message.split('\n')[0]}`,
        { file: label },
        { cause: e },
      );
    }
    const header = result.columnNames();
    const types = result.columnTypes().map((t) => t.toString());
    const seen = new Set<string>();
    for (const h of header) {
      if (seen.has(h))
        throw new KeelError('KEEL_E_PARSE', `${label}: duplicate column name "${h}"`, {
          file: label,
          column: h,
        });
      seen.add(h);
    }
    const cols = result.getColumnsJS();
    const n = cols.length ? cols[0].length : 0;
    if (n === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${label} has no data rows`, { file: label });
    const rows: string[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      const row = new Array<string>(header.length);
      for (let k = 0; k < header.length; k++) row[k] = cellText(cols[k][r]);
      rows[r] = row;
    }
    const used = schema ?? inferFromDuckDB(header, types, rows);
    const lines = Int32Array.from({ length: n }, (_, r) => r + 1);
    const typed = typeAndValidate(header, rows, used, label, lines);
    const { frame, quarantine } = typed;
    const report = checkExpectations(typed.report, frame, used, reference);
    const sha =
      files.length === 1
        ? hashes[0]
        : createHash('sha256')
            .update([...hashes].sort().join('\n'))
            .digest('hex');
    return {
      frame,
      report,
      quarantine,
      schema: used,
      source: { path: label, sha256: sha, rows: frame.nRows, bytes },
    };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** DuckDB's numeric and boolean types are kept; text columns are inferred as for CSV. */
function inferFromDuckDB(header: string[], types: string[], rows: string[][]): Schema {
  const inferred = inferSchemaFromRows(header, rows);
  inferred.columns = inferred.columns.map((c, k) => {
    const t = types[k];
    const type: ColumnType | null = INTEGER.test(t)
      ? 'integer'
      : NUMBER.test(t)
        ? 'number'
        : t === 'BOOLEAN'
          ? 'boolean'
          : null;
    if (type === null) return c;
    const { allowed: _, unique: __, ...rest } = c;
    return { ...rest, type, role: 'feature' };
  });
  return inferred;
}
