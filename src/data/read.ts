import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { KeelError } from '../core/errors.js';
import { readCsvDuckDB } from './csv-duckdb.js';
import { type ByteSource, fileSource, scanCsv, streamCsv } from './csv-stream.js';
import { checkExpectations } from './expectations.js';
import type { Frame } from './frame.js';
import { SchemaInferrer } from './infer.js';
import type { DataProfile } from './profile.js';
import type { Schema } from './schema.js';
import type { Quarantine, ValidationReport } from './validate.js';

export interface DataSource {
  path: string;
  /** sha256 of the file's bytes: the dataset's identity. */
  sha256: string;
  rows: number;
  bytes: number;
}

export interface ReadResult {
  /** The kept rows, typed. */
  frame: Frame;
  report: ValidationReport;
  /**
   * The rows that broke row-level rules, as read, with their lines and reasons (empty when they
   * were written to `quarantineFile` as they were found).
   */
  quarantine: Quarantine;
  source: DataSource;
  /** The schema used: the one given, or the one inferred. */
  schema: Schema;
  /**
   * Which reader parsed a local CSV file: DuckDB's (csv-duckdb.ts) or the strict one, and when
   * DuckDB's was tried and gave up, why (the result is the same either way; this tells the time).
   */
  reader?: { engine: 'duckdb' | 'strict'; gaveUp?: string };
}

export interface CsvOptions {
  delimiter?: string;
  /**
   * false: the file has no header line. Its columns are then the schema's, in order (the widths
   * must match), or column_1, column_2, … when a schema is inferred.
   */
  header?: boolean;
  reference?: DataProfile;
  /** Write the quarantined rows to this CSV file as they are found instead of keeping them. */
  quarantineFile?: string;
  /**
   * Which reader parses a local CSV file under a schema: `auto` (default) DuckDB's for files of at
   * least 8 MiB, `duckdb` DuckDB's at any size, `strict` Keel's own. DuckDB's reader only returns
   * clean files and gives up on anything else (see csv-duckdb.ts), which the strict reader then
   * reads for its exact report, so the result never depends on this setting.
   */
  engine?: 'auto' | 'duckdb' | 'strict';
}

/** The smallest file the DuckDB reader takes in `auto` mode (below it, starting DuckDB costs more than it saves). */
export const DUCKDB_MIN_BYTES = 8 << 20;

/**
 * Read a CSV file into a typed Frame under a schema (inferred when not given, in a first pass),
 * validating every cell. The file is read in chunks and never held whole (see csv-stream.ts).
 * Rows breaking row-level rules go to the quarantine (rows in = kept + quarantined) and are
 * reported with their file lines; structural problems (missing file, empty file, ragged rows,
 * missing columns) throw a KeelError naming the file.
 */
export async function readCsv(path: string, schema?: Schema, options: CsvOptions = {}): Promise<ReadResult> {
  if (/[*?[]/.test(path)) return readCsvSource(await globSource(path), path, schema, options);
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory())
      throw new KeelError('KEEL_E_FILE_NOT_FOUND', `${path} is a directory, not a CSV file`, { file: path });
    size = st.size;
  } catch (e) {
    if (e instanceof KeelError) throw e;
    throw new KeelError(
      'KEEL_E_FILE_NOT_FOUND',
      `data file not found: ${path}`,
      { file: path },
      { cause: e },
    );
  }
  if (size === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${path} is empty`, { file: path });
  const engine = options.engine ?? 'auto';
  if (schema && (engine === 'duckdb' || (engine === 'auto' && size >= DUCKDB_MIN_BYTES))) {
    const fast = await readCsvDuckDB(path, size, schema, options);
    if (fast.ok) {
      const report = checkExpectations(fast.report, fast.frame, schema, options.reference);
      return {
        frame: fast.frame,
        report,
        quarantine: fast.quarantine,
        schema,
        source: { path, sha256: fast.sha256, rows: fast.frame.nRows, bytes: fast.bytes },
        reader: { engine: 'duckdb' },
      };
    }
    const strict = await readCsvSource(fileSource(path, size), path, schema, options);
    return { ...strict, reader: { engine: 'strict', gaveUp: fast.reason } };
  }
  return {
    ...(await readCsvSource(fileSource(path, size), path, schema, options)),
    reader: { engine: 'strict' },
  };
}

/**
 * The files a glob names (DuckDB's glob(): `*`, `?`, `[...]`, `**`), sorted by name, as one CSV:
 * every file must have the first file's header, which is read once; the line numbers in the report
 * count through the files in order as if they were one file with one header. The sha256 is the
 * file's own for one file, else the sha256 of the files' sorted sha256s (as for Parquet globs).
 */
async function globSource(pattern: string): Promise<ByteSource> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  let files: string[];
  try {
    const listed = await con.runAndReadAll(
      `SELECT file FROM glob('${pattern.replaceAll("'", "''")}') ORDER BY file`,
    );
    files = (listed.getColumnsJS()[0] ?? []).map(String);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  if (files.length === 0)
    throw new KeelError('KEEL_E_FILE_NOT_FOUND', `no data file matches ${pattern}`, { file: pattern });
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return concatSource(
    pattern,
    files.map((name, i) => ({ name, size: sizes[i], chunks: () => fileSource(name, sizes[i]).chunks() })),
  );
}

/** One part of a concatenated CSV source: a file or an object, named as reports should name it. */
export interface SourcePart {
  name: string;
  size: number;
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * Parts (files, or objects of an S3 glob) read in order as one CSV: every part must have the first
 * part's header, which is read once; line numbers count through the parts as one file with one
 * header. The sha256 is the part's own for one part, else the sha256 of the parts' sorted sha256s.
 */
export function concatSource(pattern: string, parts: readonly SourcePart[]): ByteSource {
  const files = parts.map((p) => p.name);
  const hashes: string[] = [];
  return {
    size: parts.reduce((a, p) => a + p.size, 0),
    sha256: () =>
      hashes.length === 1
        ? hashes[0]
        : createHash('sha256')
            .update([...hashes].sort().join('\n'))
            .digest('hex'),
    async *chunks() {
      hashes.length = 0;
      let header: Buffer | null = null;
      for (let i = 0; i < files.length; i++) {
        const h = createHash('sha256');
        let first = true;
        let last = 10;
        let head = Buffer.alloc(0);
        for await (const chunk of parts[i].chunks()) {
          h.update(chunk);
          let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          if (first) {
            // this file's header line (up to the first LF), compared with the first file's
            head = Buffer.concat([head, c]);
            const nl = head.indexOf(10);
            if (nl < 0 && head.length < 1 << 20) continue;
            first = false;
            const line = head.subarray(0, nl < 0 ? head.length : nl + 1);
            const bare = stripHeader(line);
            if (header === null) {
              header = bare;
              c = head;
            } else {
              if (!bare.equals(header))
                throw new KeelError(
                  'KEEL_E_PARSE',
                  `${files[i]}: its header differs from ${files[0]}'s (every file of ${pattern} needs the same columns)`,
                  { file: files[i], row: 1 },
                );
              c = head.subarray(line.length);
            }
          }
          if (c.length) {
            last = c[c.length - 1];
            yield c;
          }
        }
        if (first && head.length) {
          // a file that is only a header without a line end
          if (header === null) {
            header = stripHeader(head);
            yield head;
            last = head[head.length - 1];
          } else if (!stripHeader(head).equals(header))
            throw new KeelError('KEEL_E_PARSE', `${files[i]}: its header differs from ${files[0]}'s`, {
              file: files[i],
              row: 1,
            });
        }
        if (last !== 10 && i < files.length - 1) yield Buffer.from('\n');
        hashes.push(h.digest('hex'));
      }
    },
  };
}

function stripHeader(line: Buffer): Buffer {
  let s = 0;
  let e = line.length;
  if (line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) s = 3;
  while (e > s && (line[e - 1] === 10 || line[e - 1] === 13)) e--;
  return line.subarray(s, e);
}

/**
 * The same as readCsv on bytes already in memory; `path` names them in the report and errors.
 */
export function readCsvBytes(
  bytes: Buffer,
  path: string,
  schema?: Schema,
  options: CsvOptions = {},
): Promise<ReadResult> {
  return readCsvSource({ size: bytes.length, chunks: () => [bytes] }, path, schema, options);
}

/** Infer a starting schema from a CSV source, reading it in chunks. */
export async function inferCsvSchema(
  source: ByteSource,
  file: string,
  delimiter = ',',
  header = true,
): Promise<Schema> {
  let inf: SchemaInferrer | null = null;
  await scanCsv(
    source,
    file,
    delimiter,
    (header) => {
      inf = new SchemaInferrer(header);
    },
    (b, r0) => {
      const width = inf!.header.length;
      for (let r = r0; r < b.nRec; r++) {
        const base = b.recField[r];
        for (let k = 0; k < width; k++) inf!.add(k, b.text(base + k));
      }
    },
    header ? null : {},
  );
  return (inf as SchemaInferrer | null)!.schema();
}

/**
 * Read any CSV byte source (a file, an S3 object, bytes in memory) under a schema; without one, the
 * source is read twice (inference, then typing). The sha256 is over the bytes as read.
 */
export async function readCsvSource(
  source: ByteSource,
  path: string,
  schema?: Schema,
  options: CsvOptions = {},
): Promise<ReadResult> {
  const delimiter = options.delimiter ?? ',';
  const used = schema ?? (await inferCsvSchema(source, path, delimiter, options.header !== false));
  const hash = createHash('sha256');
  const hashed: ByteSource = {
    size: source.size,
    async *chunks() {
      for await (const c of source.chunks()) {
        hash.update(c);
        yield c;
      }
    },
  };
  const typed = await streamCsv(source.sha256 ? source : hashed, path, used, {
    delimiter,
    header: options.header,
    quarantineFile: options.quarantineFile,
  });
  const { frame, quarantine } = typed;
  const report = checkExpectations(typed.report, frame, used, options.reference);
  return {
    frame,
    report,
    quarantine,
    schema: used,
    source: {
      path,
      sha256: source.sha256 ? source.sha256() : hash.digest('hex'),
      rows: frame.nRows,
      bytes: typed.bytes,
    },
  };
}
