/**
 * bench:data: ingest + validate + profile the peers' 1M-row x 24-column CSV with Keel
 * (readTable under a schema, then profileFrame) against DuckDB alone reading the same file into
 * memory, each run in its own process, alternating, for several rounds; medians. Writes
 * bench/results/data.json in the format of ../shared/BENCH.md and prints a table.
 *
 *   npm run bench:data -- [--size 1m] [--rounds 3]
 *
 * The schema is inferred from the file once, before the timed runs (bench/.work/data/*.schema.yaml),
 * as a user would start with `keel data infer-schema`. The CSV comes from ../shared/bench/gen_data.py.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fileSource } from '../src/data/csv-stream.js';
import { inferCsvSchema } from '../src/data/read.js';
import { argList, machine, median, root, round4, sharedDir, work } from './util.js';

const args = process.argv.slice(2);
const size = argList(args, '--size', ['1m'])[0];
const rounds = Number(argList(args, '--rounds', ['3'])[0]);
const dataDir = join(work, 'data');
const file = join(dataDir, `gbdt_${size}.csv`);
const schemaFile = join(dataDir, `gbdt_${size}.schema.yaml`);

if (!existsSync(file)) {
  console.error(`generating gbdt_${size}.csv with the peer's gen_data.py ...`);
  execFileSync('/usr/bin/python3', [join(sharedDir(), 'bench', 'gen_data.py'), '--sizes', size], {
    env: { ...process.env, BENCH_WORK_DIR: work },
    stdio: 'inherit',
  });
}
if (!existsSync(schemaFile)) {
  console.error(`inferring ${schemaFile} ...`);
  const schema = await inferCsvSchema(fileSource(file), file);
  writeFileSync(schemaFile, stringify(schema));
}

interface Run {
  seconds: number;
  rss_peak_mb: number;
  cpu_s: number;
  rows: number;
  [k: string]: unknown;
}

function run(cmd: string[], label: string): Run {
  const r = spawnSync(process.execPath, cmd, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${label} failed: ${r.stderr}`);
  return JSON.parse(line) as Run;
}

const keel: Run[] = [];
const duck: Run[] = [];
for (let i = 0; i < rounds; i++) {
  // alternate which side goes first
  const order = i % 2 === 0 ? ['keel', 'duck'] : ['duck', 'keel'];
  for (const side of order) {
    if (side === 'keel')
      keel.push(run(['--import', 'tsx', join(root, 'bench', 'data-keel.ts'), file, schemaFile], 'keel'));
    else duck.push(run([join(root, 'bench', 'data-duckdb.mjs'), file], 'duckdb'));
  }
  const k = keel[keel.length - 1];
  const d = duck[duck.length - 1];
  console.error(
    `round ${i + 1}: keel ${k.seconds.toFixed(2)} s (read ${Number(k.read_s).toFixed(2)}, profile ${Number(k.profile_s).toFixed(2)}; cpu ${k.cpu_s.toFixed(2)} s), ${k.rss_peak_mb.toFixed(0)} MB; duckdb ${d.seconds.toFixed(2)} s (cpu ${d.cpu_s.toFixed(2)} s), ${d.rss_peak_mb.toFixed(0)} MB`,
  );
}
if (keel.some((k) => k.rows !== duck[0].rows || k.quarantined !== 0))
  throw new Error(`row counts differ: keel ${keel.map((k) => k.rows)} vs duckdb ${duck[0].rows}`);

const med = (rs: Run[], k: string) => median(rs.map((r) => Number(r[k])));
const keelS = med(keel, 'seconds');
const duckS = med(duck, 'seconds');
const rss = med(keel, 'rss_peak_mb');
const colMb = Number(keel[0].column_mb);
const rows = [
  {
    case: `data-ingest-validate-profile-${size}`,
    unit: 's',
    keel: round4(keelS),
    peer: round4(duckS),
    peer_name: `duckdb ${duck[0].threads} threads CREATE TABLE AS SELECT * FROM read_csv (@duckdb/node-api)`,
    ratio: round4(keelS / duckS),
    better: 'lower',
    goal: 1.5,
    must: 1.5,
    pass: keelS / duckS <= 1.5,
    keel_cpu_s: round4(med(keel, 'cpu_s')),
    peer_cpu_s: round4(med(duck, 'cpu_s')),
    keel_read_s: round4(med(keel, 'read_s')),
    keel_profile_s: round4(med(keel, 'profile_s')),
    rounds,
  },
  {
    case: `data-rss-${size}`,
    unit: 'MB',
    keel: round4(rss),
    peer: round4(colMb),
    peer_name:
      "in-memory size of the columns: the bytes of Keel's typed column arrays (Float64Array, Int32Array)",
    ratio: round4(rss / colMb),
    better: 'lower',
    goal: 3,
    must: 3,
    pass: rss / colMb <= 3,
    duckdb_rss_peak_mb: round4(med(duck, 'rss_peak_mb')),
    rounds,
  },
];
const out = join(root, 'bench', 'results', 'data.json');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), rows }, null, 2)}\n`,
);
const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `${pad('case', 34)} ${pad('unit', 5)} ${pad('keel', 10)} ${pad('peer', 10)} ${pad('ratio', 8)} ${pad('must', 5)} pass`,
);
for (const r of rows)
  console.log(
    `${pad(r.case, 34)} ${pad(r.unit, 5)} ${pad(String(r.keel), 10)} ${pad(String(r.peer), 10)} ${pad(String(r.ratio), 8)} ${pad(String(r.must), 5)} ${r.pass}`,
  );
console.log(`wrote ${out}`);
