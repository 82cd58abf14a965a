import { readFile, stat } from 'node:fs/promises';
import { KeelError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { parseCsv } from './csv.js';
import { checkExpectations } from './expectations.js';
import type { Frame } from './frame.js';
import { inferSchemaFromRows } from './infer.js';
import type { DataProfile } from './profile.js';
import type { Schema } from './schema.js';
import { type Quarantine, typeAndValidate, type ValidationReport } from './validate.js';

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
  /** The rows that broke row-level rules, as read, with their lines and reasons. */
  quarantine: Quarantine;
  source: DataSource;
  /** The schema used: the one given, or the one inferred. */
  schema: Schema;
}

/**
 * Read a CSV file into a typed Frame under a schema (inferred when not given), validating every
 * cell. Rows breaking row-level rules go to the quarantine (rows in = kept + quarantined) and are
 * reported with their file lines; structural problems
 * (missing file, empty file, ragged rows, missing columns) throw a KeelError naming the file.
 */
export async function readCsv(
  path: string,
  schema?: Schema,
  options: { delimiter?: string; reference?: DataProfile } = {},
): Promise<ReadResult> {
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory())
      throw new KeelError('KEEL_E_FILE_NOT_FOUND', `${path} is a directory, not a CSV file`, { file: path });
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof KeelError) throw e;
    throw new KeelError(
      'KEEL_E_FILE_NOT_FOUND',
      `data file not found: ${path}`,
      { file: path },
      { cause: e },
    );
  }
  return readCsvBytes(bytes, path, schema, options);
}

/**
 * The same as readCsv on bytes already in memory (an S3 object, say); `path` names them in the
 * report and errors.
 */
export function readCsvBytes(
  bytes: Buffer,
  path: string,
  schema?: Schema,
  options: { delimiter?: string; reference?: DataProfile } = {},
): ReadResult {
  if (bytes.length === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${path} is empty`, { file: path });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new KeelError('KEEL_E_PARSE', `${path} is not valid UTF-8 (line ${at.line}, byte ${at.offset})`, {
      file: path,
      row: at.line,
    });
  }
  const parsed = parseCsv(text, path, options.delimiter);
  const used = schema ?? inferSchemaFromRows(parsed.header, parsed.rows);
  const typed = typeAndValidate(parsed.header, parsed.rows, used, path, parsed.lines);
  const { frame, quarantine } = typed;
  const report = checkExpectations(typed.report, frame, used, options.reference);
  return {
    frame,
    report,
    quarantine,
    schema: used,
    source: { path, sha256: sha256(bytes), rows: frame.nRows, bytes: bytes.length },
  };
}

function firstInvalidUtf8(bytes: Buffer): { line: number; offset: number } {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let lo = 0;
  let hi = bytes.length;
  // binary search the shortest invalid prefix
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid + 1), { stream: true });
      dec.decode();
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  for (let i = 0; i < lo && i < bytes.length; i++) if (bytes[i] === 10) line++;
  return { line, offset: lo };
}
