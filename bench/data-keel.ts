/**
 * One Keel run for bench:data, in its own process: read the CSV under its schema (ingest, typing,
 * validation with quarantine, sha256), then profile the kept rows. Prints one JSON line: the wall
 * time from the call to readTable to the profile, the process's peak RSS, and the bytes of the
 * typed columns (Float64Array / Int32Array; string columns at 2 bytes a character). Like the peer's,
 * the clock starts with the modules loaded (Keel's and DuckDB's).
 *
 *   node --import tsx bench/data-keel.ts FILE SCHEMA
 */
import { loadSchema, profileFrameParallel, readTable } from '../src/data/index.js';

// DuckDB's module is loaded before the clock starts, as in the peer (bench/data-duckdb.mjs imports
// it statically); Keel's reader imports it on first use, which costs ~0.22-0.25 s of CPU
await import('@duckdb/node-api');

const [file, schemaFile] = process.argv.slice(2);
const schema = loadSchema(schemaFile);
const c0 = process.cpuUsage();
const t0 = performance.now();
const read = await readTable(file, schema);
const t1 = performance.now();
const profile = await profileFrameParallel(read.frame);
const t2 = performance.now();
const cpu = process.cpuUsage(c0);
let columnBytes = 0;
for (const name of read.frame.names) {
  const c = read.frame.col(name);
  if (c.kind === 'numeric') columnBytes += c.values.byteLength;
  else if (c.kind === 'categorical') columnBytes += c.codes.byteLength;
  else for (const v of c.values) columnBytes += v === null ? 0 : 2 * v.length;
}
console.log(
  JSON.stringify({
    seconds: (t2 - t0) / 1000,
    read_s: (t1 - t0) / 1000,
    profile_s: (t2 - t1) / 1000,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    rss_peak_mb: process.resourceUsage().maxRSS / 1024,
    column_mb: columnBytes / 2 ** 20,
    rows: read.report.rows,
    kept: read.report.kept,
    quarantined: read.report.quarantined,
    columns: profile.columns.length,
    sha256: read.source.sha256,
    reader: read.reader?.engine,
    reader_gave_up: read.reader?.gaveUp,
  }),
);
