/**
 * A strict RFC 4180 CSV reader: quoted fields (with delimiters, quotes and newlines inside),
 * CRLF or LF, a UTF-8 BOM. Unlike lenient readers it refuses ragged rows and unterminated quotes,
 * naming the line, so malformed files are never silently reshaped.
 */
import { KeelError } from '../core/errors.js';

export interface ParsedCsv {
  header: string[];
  /** Data records, each with header.length fields. */
  rows: string[][];
  /** The 1-based file line where each data record starts. */
  lines: number[];
}

export function parseCsv(text: string, file: string, delimiter = ','): ParsedCsv {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const lines: number[] = [];
  const n = text.length;
  const delim = delimiter.charCodeAt(0);
  let i = 0;
  let line = 1;
  while (i < n) {
    const startLine = line;
    const record: string[] = [];
    // one record
    for (;;) {
      let field: string;
      if (text.charCodeAt(i) === 34) {
        // quoted field
        let j = i + 1;
        let out = '';
        let chunk = j;
        for (;;) {
          if (j >= n)
            throw new KeelError(
              'KEEL_E_PARSE',
              `${file}: unterminated quoted field starting on line ${startLine}`,
              { file, row: startLine },
            );
          const c = text.charCodeAt(j);
          if (c === 34) {
            if (text.charCodeAt(j + 1) === 34) {
              out += text.slice(chunk, j + 1);
              j += 2;
              chunk = j;
              continue;
            }
            out += text.slice(chunk, j);
            j++;
            break;
          }
          if (c === 10) line++;
          j++;
        }
        field = out;
        i = j;
        const c = text.charCodeAt(i);
        if (i < n && c !== delim && c !== 10 && c !== 13)
          throw new KeelError(
            'KEEL_E_PARSE',
            `${file}: unexpected text after a closing quote on line ${line}`,
            { file, row: line },
          );
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === delim || c === 10 || c === 13) break;
          j++;
        }
        field = text.slice(i, j);
        i = j;
      }
      record.push(field);
      if (i < n && text.charCodeAt(i) === delim) {
        i++;
        continue;
      }
      // end of record
      if (i < n && text.charCodeAt(i) === 13) i++;
      if (i < n && text.charCodeAt(i) === 10) i++;
      line++;
      break;
    }
    // skip blank lines (a record of one empty field)
    if (record.length === 1 && record[0] === '') continue;
    records.push(record);
    lines.push(startLine);
  }
  if (records.length === 0) throw new KeelError('KEEL_E_FILE_EMPTY', `${file} is empty`, { file });
  const header = records[0].map((h) => h.trim());
  checkHeader(header, file, delimiter);
  for (let r = 1; r < records.length; r++) {
    if (records[r].length !== header.length) {
      const short = records[r].length < header.length;
      const column = short ? header[records[r].length] : undefined;
      throw new KeelError(
        'KEEL_E_PARSE',
        `${file}: line ${lines[r]} (data row ${r}) has ${records[r].length} fields, the header has ${header.length}${short ? ` (no value for column "${column}")` : ''}`,
        { file, row: lines[r], column },
      );
    }
  }
  if (records.length === 1)
    throw new KeelError('KEEL_E_FILE_EMPTY', `${file} has a header but no data rows`, { file });
  return { header, rows: records.slice(1), lines: lines.slice(1) };
}

/**
 * The header rules of both CSV readers (this one and csv-stream's): every column named, no name
 * twice, and a single column that looks like another delimiter's header refused.
 */
export function checkHeader(header: string[], file: string, delimiter: string): void {
  const seen = new Map<string, number>();
  header.forEach((h, k) => {
    if (h === '')
      throw new KeelError('KEEL_E_PARSE', `${file}: column ${k + 1} of the header has no name`, {
        file,
        row: 1,
      });
    if (seen.has(h))
      throw new KeelError(
        'KEEL_E_PARSE',
        `${file}: duplicate column name "${h}" (columns ${seen.get(h)! + 1} and ${k + 1})`,
        { file, column: h },
      );
    seen.set(h, k);
  });
  if (header.length === 1 && delimiter === ',' && /[;\t|]/.test(header[0]))
    throw new KeelError(
      'KEEL_E_PARSE',
      `${file}: the header has a single column "${header[0].slice(0, 40)}"; is the delimiter not a comma?`,
      { file, row: 1 },
    );
}
