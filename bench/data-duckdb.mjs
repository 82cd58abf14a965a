/**
 * The peer of bench:data, in its own process: DuckDB alone reading the same CSV into memory
 * (CREATE TABLE AS SELECT * FROM read_csv(FILE), its own type sniffing, all its threads). Prints
 * one JSON line: wall time from creating the database to the table being built, and peak RSS.
 *
 *   node bench/data-duckdb.mjs FILE
 */
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
const c0 = process.cpuUsage();
const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file.replaceAll("'", "''")}')`);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const rows = Number((await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
const threads = (await con.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
console.log(
  JSON.stringify({
    seconds,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    rss_peak_mb: process.resourceUsage().maxRSS / 1024,
    rows,
    threads: Number(threads),
  }),
);
con.closeSync();
instance.closeSync();
