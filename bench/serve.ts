/**
 * bench:serve: Keel's prediction server against the serving peer (FastAPI + uvicorn + scikit-learn,
 * the tuned configuration: uvloop, httptools, async handler, OMP_NUM_THREADS=1, one worker) and the
 * bare node:http ceiling, side by side in one run, rounds in alternation, loopback only, bounded in
 * time. The same kind of model on the same data: one-hot categories + 200 depth-6 boosted trees
 * trained on the 80% split of gbdt_100k.csv. Writes bench/results/serve.json (../shared/BENCH.md).
 *
 *   npm run bench:serve -- [--rounds 3] [--duration 10] [--only batch]
 *
 * --port-base N: listen on N, N + 1, N + 2 instead of 18201-18203.
 * --only batch: Keel's columnar batch row alone (no peers, no single-record runs), with the
 * server's CPU time per 1,000 rows; printed, bench/results/serve.json is not written.
 *
 * Needs: apt-get install -y wrk python3-fastapi python3-uvicorn python3-uvloop python3-httptools
 *        python3-sklearn python3-pandas
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import { parseCsv } from '../src/data/csv.js';
import { categoricalColumn, Frame, numericColumn } from '../src/data/frame.js';
import type { ColumnSpec } from '../src/data/schema.js';
import { FeaturePipeline, GradientBoostingClassifier, Model } from '../src/learn/index.js';
import { openArtifactStore, openStore } from '../src/track/index.js';
import { machine, median, root, round4, sharedDir, work } from './util.js';

const shared = sharedDir();
const args = process.argv.slice(2);
const opt = (flag: string, dflt: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const rounds = opt('--rounds', 3);
const duration = opt('--duration', 10);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
if (only !== null && only !== 'batch') throw new Error(`--only: expected batch, got ${only}`);
const py = '/usr/bin/python3';
const env = { ...process.env, BENCH_WORK_DIR: work };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- setup
if (!existsSync(join(work, 'data', 'gbdt_100k.csv')))
  execFileSync(py, [join(shared, 'bench', 'gen_data.py'), '--sizes', '100k'], { env, stdio: 'inherit' });
const peerModel = join(work, 'models', 'hgb_onehot_100k.joblib');
if (!existsSync(peerModel))
  execFileSync(py, [join(shared, 'bench', 'serve_fastapi.py'), 'train'], { env, stdio: 'inherit' });
const sample = JSON.parse(readFileSync(join(work, 'models', 'sample_record.json'), 'utf8')).record as Record<
  string,
  unknown
>;

const serveDir = join(work, 'serve');
mkdirSync(serveDir, { recursive: true });
writeFileSync(join(serveDir, 'keel.yaml'), 'store: keel.db\nartifacts: artifacts\nlog_level: warn\n');
await trainKeelModel();

async function trainKeelModel(): Promise<void> {
  const store = await openStore(join(serveDir, 'keel.db'));
  try {
    if (await store.getModelVersionByAlias('gbdt', 'production').catch(() => null)) return;
    console.error('training the Keel model (200 trees, depth 6) on the 80% split of gbdt_100k.csv ...');
    const p = parseCsv(readFileSync(join(work, 'data', 'gbdt_100k.csv'), 'utf8'), 'gbdt_100k.csv');
    const isTest = readFileSync(join(work, 'data', 'gbdt_100k.split.txt'), 'utf8')
      .trim()
      .split('\n');
    const train = p.rows.filter((_, i) => isTest[i] !== '1');
    const num = p.header.filter((h) => /^f\d+$/.test(h));
    const cat = p.header.filter((h) => h.startsWith('cat_'));
    const at = (h: string) => p.header.indexOf(h);
    const cats = Object.fromEntries(cat.map((h) => [h, [...new Set(p.rows.map((r) => r[at(h)]))].sort()]));
    const frame = new Frame(
      [...num, ...cat],
      [
        ...num.map((h) => numericColumn(train.map((r) => (r[at(h)] === '' ? null : Number(r[at(h)]))))),
        ...cat.map((h) =>
          categoricalColumn(
            train.map((r) => r[at(h)]),
            cats[h],
          ),
        ),
      ],
    );
    const inputs: ColumnSpec[] = [
      ...num.map((name) => ({ name, type: 'number' as const, nullable: true, role: 'feature' as const })),
      ...cat.map((name) => ({
        name,
        type: 'category' as const,
        nullable: true,
        allowed: cats[name],
        role: 'feature' as const,
      })),
    ];
    const y = Float64Array.from(train, (r) => Number(r[at('label')]));
    const pipeline = new FeaturePipeline({ columns: inputs, scale: false, missingIndicator: false }).fit(
      frame,
    );
    const clf = new GradientBoostingClassifier({ nEstimators: 200, maxDepth: 6, learningRate: 0.1 }).fit(
      pipeline.transform(frame),
      y,
    );
    const model = new Model({
      pipeline,
      classifier: clf,
      signature: { inputs, target: { name: 'label', classes: ['0', '1'], positive: '1' } },
    });
    const ref = await openArtifactStore(join(serveDir, 'artifacts')).put(
      'model/model.json',
      JSON.stringify(model.toJSON()),
    );
    const v = await store.createModelVersion({ name: 'gbdt', runId: null, artifact: ref });
    await store.setAlias('gbdt', 'production', v.version);
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------- servers
interface Server {
  name: string;
  url: string;
  path: string;
  proc: ChildProcess;
}
// --port-base N moves the three ports (default 18201: keel, fastapi, node)
const portBase = opt('--port-base', 18201);
const ports = { keel: portBase, fastapi: portBase + 1, node: portBase + 2 };

async function start(name: keyof typeof ports): Promise<Server> {
  const port = ports[name];
  let proc: ChildProcess;
  let path = '/predict';
  if (name === 'keel') {
    path = '/v1/models/gbdt/predict';
    proc = spawn(
      process.execPath,
      [
        join(root, 'bin', 'keel.js'),
        'serve',
        '--model',
        'gbdt@production',
        '--port',
        String(port),
        '--poll',
        '0',
      ],
      {
        cwd: serveDir,
        env: { ...process.env, KEEL_LOG_LEVEL: 'warn', KEEL_LOG_FORMAT: 'json' },
        stdio: 'ignore',
        detached: true,
      },
    );
  } else if (name === 'fastapi') {
    proc = spawn(
      py,
      [
        '-m',
        'uvicorn',
        'serve_fastapi:app',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--no-access-log',
        '--log-level',
        'warning',
        '--loop',
        'uvloop',
        '--http',
        'httptools',
      ],
      {
        cwd: join(shared, 'bench'),
        env: { ...env, MODEL_PATH: peerModel, ENDPOINT_MODE: 'async', OMP_NUM_THREADS: '1' },
        stdio: 'ignore',
        detached: true,
      },
    );
  } else {
    proc = spawn(process.execPath, [join(shared, 'bench', 'serve_node_bare.js')], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
      detached: true,
    });
  }
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sample),
      });
      if (r.status === 200) return { name, url, path, proc };
    } catch {}
    await sleep(200);
  }
  stop({ name, url, path, proc });
  throw new Error(`${name} did not start on ${url}`);
}

function stop(s: Server): void {
  try {
    process.kill(-s.proc.pid!, 'SIGTERM');
  } catch {}
}

/** wrk at a fixed connection count: requests/s and p99 latency (ms). */
function wrk(s: Server, conns: number, seconds: number): { rps: number; p99: number } {
  const lua = join(work, 'keel-post.lua');
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${JSON.stringify(sample)}'\n`,
  );
  const out = execFileSync(
    'timeout',
    [
      String(seconds + 15),
      'wrk',
      '-t1',
      `-c${conns}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      lua,
      s.url + s.path,
    ],
    { encoding: 'utf8' },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : Number.NaN;
  if (/Non-2xx or 3xx responses: (\d+)/.test(out))
    throw new Error(`${s.name}: non-2xx responses under load:\n${out}`);
  return { rps, p99 };
}

/** p99 latency (ms) at a fixed request rate, with autocannon. */
async function atRate(s: Server, rate: number, seconds: number): Promise<number> {
  const r = await autocannon({
    url: s.url + s.path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sample),
    connections: 16,
    overallRate: rate,
    duration: seconds,
  });
  return r.latency.p99;
}

/**
 * p99 latency (ms) at a steady request rate: an open-loop generator sends one request every
 * 1000/rate ms over up to 16 keep-alive connections and times each from its scheduled send time
 * (so a stall counts for every request it delays: no coordinated omission). autocannon's rate
 * limit instead fires each second's requests in one burst at the start of the second, which
 * measures queueing behind that burst rather than latency at the rate (kept as a second row).
 */
async function pacedP99(s: Server, rate: number, seconds: number, conns = 16): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  const url = new URL(s.url + s.path);
  const body = JSON.stringify(sample);
  const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const latency: number[] = [];
  let failed = 0;
  await new Promise<void>((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    let done = 0;
    const finish = (ms: number, ok: boolean) => {
      latency.push(ms);
      if (!ok) failed++;
      if (++done === total) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        const intended = t0 + sent * interval;
        sent++;
        const req = http.request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers },
          (res) => {
            res.resume();
            res.on('end', () => finish(performance.now() - intended, res.statusCode === 200));
          },
        );
        req.on('error', () => finish(performance.now() - intended, false));
        req.end(body);
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
  agent.destroy();
  if (failed > 0) throw new Error(`${s.name}: ${failed} failed requests at ${rate} req/s`);
  latency.sort((a, b) => a - b);
  return latency[Math.ceil(0.99 * latency.length) - 1];
}

/**
 * Rows scored per second through the batch endpoint, 1,000-row batches (of the sample record), in
 * one of its three forms: a JSON array of records, columnar JSON ({"columns": {name: [1,000
 * values]}}) or CSV.
 */
async function batchRows(s: Server, seconds: number, form: 'records' | 'columns' | 'csv'): Promise<number> {
  const recs = Array.from({ length: 1000 }, () => sample);
  const names = Object.keys(sample);
  const body =
    form === 'records'
      ? JSON.stringify(recs)
      : form === 'columns'
        ? JSON.stringify({ columns: Object.fromEntries(names.map((k) => [k, recs.map((r) => r[k])])) })
        : `${[names.join(','), ...recs.map((r) => names.map((k) => r[k] ?? '').join(','))].join('\n')}\n`;
  // wrk (C, one thread), as for the single-record rows: autocannon's JavaScript client parsed each
  // 1,000-prediction response on the same two cores as the server it was measuring.
  const bodyFile = join(work, `keel-batch-${form}.body`);
  writeFileSync(bodyFile, body);
  const lua = join(work, `keel-batch-${form}.lua`);
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "${form === 'csv' ? 'text/csv' : 'application/json'}"\n` +
      `local f = io.open("${bodyFile}", "rb")\nwrk.body = f:read("*a")\nf:close()\n`,
  );
  const out = execFileSync(
    'timeout',
    [String(seconds + 15), 'wrk', '-t1', '-c4', `-d${seconds}s`, '-s', lua, s.url + s.path],
    { encoding: 'utf8' },
  );
  if (/Non-2xx or 3xx responses: (\d+)/.test(out)) throw new Error(`batch: non-2xx responses:\n${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!(rps > 0)) throw new Error(`batch: no requests/s in wrk's output:\n${out}`);
  return rps * 1000;
}

/** CPU seconds (user + system) used so far by process pid (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

if (only === 'batch') {
  const rps: number[] = [];
  const cpu: number[] = [];
  const s = await start('keel');
  try {
    await batchRows(s, 3, 'columns'); // warm-up
    for (let round = 1; round <= rounds; round++) {
      const c0 = cpuSeconds(s.proc.pid!);
      const t0 = performance.now();
      const r = await batchRows(s, duration, 'columns');
      const secs = (performance.now() - t0) / 1000;
      const c = cpuSeconds(s.proc.pid!) - c0;
      rps.push(r);
      cpu.push((c / (r * secs)) * 1000 * 1000); // ms of server CPU per 1,000 rows
      console.log(
        `round ${round}: ${Math.round(r)} rows/s, server CPU ${(c / secs).toFixed(2)} cores, ${cpu.at(-1)!.toFixed(3)} ms per 1,000 rows`,
      );
    }
  } finally {
    stop(s);
  }
  console.log(
    `batch columns: median ${Math.round(median(rps))} rows/s, ${median(cpu).toFixed(3)} ms CPU per 1,000 rows`,
  );
  process.exit(0);
}

// ---------------------------------------------------------------- rounds
const samples: Record<string, number[]> = {};
const add = (k: string, v: number) => {
  samples[k] ??= [];
  samples[k].push(v);
};
for (let round = 1; round <= rounds; round++) {
  for (const name of ['keel', 'fastapi', 'node'] as const) {
    console.error(`round ${round}/${rounds}: ${name} ...`);
    const s = await start(name);
    try {
      wrk(s, 16, 3); // warm-up
      for (const c of [16, 64]) {
        const r = wrk(s, c, duration);
        add(`${name}-rps-c${c}`, r.rps);
        add(`${name}-p99-c${c}`, r.p99);
      }
      if (name === 'keel') {
        await pacedP99(s, 1000, 2); // warm-up of the generator's own request path
        add('keel-p99-at-1000', await pacedP99(s, 1000, duration));
        add('keel-p99-burst-1000', await atRate(s, 1000, duration));
        add('keel-batch-rows-columns', await batchRows(s, duration, 'columns'));
        add('keel-batch-rows-records', await batchRows(s, duration, 'records'));
        add('keel-batch-rows-csv', await batchRows(s, duration, 'csv'));
      }
      if (name === 'fastapi') add('fastapi-p99-at-1000', await atRate(s, 1000, Math.min(duration, 5)));
    } finally {
      stop(s);
      await sleep(500);
    }
  }
}

const med = (k: string) => median(samples[k] ?? [Number.NaN]);
const fastapiName =
  'FastAPI + uvicorn (uvloop, httptools, async, OMP_NUM_THREADS=1), 1 worker, scikit-learn HGB';
const rows = [
  ...[16, 64].map((c) => {
    const ratio = med(`keel-rps-c${c}`) / med(`fastapi-rps-c${c}`);
    return {
      case: `serve-rps-c${c}`,
      unit: 'req/s',
      keel: round4(med(`keel-rps-c${c}`)),
      peer: round4(med(`fastapi-rps-c${c}`)),
      peer_name: fastapiName,
      ratio: round4(ratio),
      better: 'higher',
      goal: 10,
      must: 10,
      pass: ratio >= 10,
    };
  }),
  ...[16, 64].map((c) => {
    const ratio = med(`keel-rps-c${c}`) / med(`node-rps-c${c}`);
    return {
      case: `serve-vs-bare-node-c${c}`,
      unit: 'req/s',
      keel: round4(med(`keel-rps-c${c}`)),
      peer: round4(med(`node-rps-c${c}`)),
      peer_name: 'bare node:http (constant answer)',
      ratio: round4(ratio),
      better: 'higher',
      goal: 0.6,
      must: 0.6,
      pass: ratio >= 0.6,
    };
  }),
  {
    case: 'serve-p99-at-1000rps',
    unit: 'ms',
    keel: round4(med('keel-p99-at-1000')),
    peer: round4(med('fastapi-p99-at-1000')),
    peer_name: `${fastapiName} (autocannon: it cannot sustain 1,000 req/s, so an open-loop run would only measure its backlog)`,
    ratio: round4(med('keel-p99-at-1000') / med('fastapi-p99-at-1000')),
    better: 'lower',
    goal: 5,
    must: 5,
    must_on: 'keel',
    pass: med('keel-p99-at-1000') <= 5,
    note: 'must: Keel p99 at most 5 ms at a steady 1,000 requests/s (open-loop, 16 keep-alive connections, timed from the scheduled send)',
  },
  {
    case: 'serve-p99-burst-1000',
    unit: 'ms',
    keel: round4(med('keel-p99-burst-1000')),
    peer: round4(med('fastapi-p99-at-1000')),
    peer_name: fastapiName,
    ratio: round4(med('keel-p99-burst-1000') / med('fastapi-p99-at-1000')),
    better: 'lower',
    goal: null,
    must: null,
    pass: null,
    note: "informational: autocannon's rate limit, each second's 1,000 requests sent in one burst over 16 connections",
  },
  {
    case: 'serve-batch-rows-per-s',
    unit: 'rows/s',
    keel: Math.round(med('keel-batch-rows-columns')),
    peer: null,
    peer_name: 'none (the peer has no batch endpoint)',
    ratio: null,
    better: 'higher',
    goal: 500_000,
    must: 500_000,
    must_on: 'keel',
    pass: med('keel-batch-rows-columns') >= 500_000,
    note: 'must: at least 500,000 rows/s in 1,000-row batches; columnar JSON ({"columns": {...}}), 4 connections, wrk -t1',
  },
  ...(['records', 'csv'] as const).map((form) => ({
    case: `serve-batch-rows-per-s-${form}`,
    unit: 'rows/s',
    keel: Math.round(med(`keel-batch-rows-${form}`)),
    peer: null,
    peer_name: 'none (the peer has no batch endpoint)',
    ratio: null,
    better: 'higher',
    goal: null,
    must: null,
    pass: null,
    note: `informational: the same 1,000-row batches as ${form === 'records' ? 'a JSON array of records' : 'CSV (text/csv)'}`,
  })),
];
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  rounds,
  duration_s: duration,
  samples,
  rows,
};
const out = join(root, 'bench', 'results', 'serve.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
for (const r of rows)
  console.log(
    `${r.case.padEnd(24)} ${r.unit.padEnd(7)} keel ${String(r.keel).padEnd(12)} peer ${String(r.peer).padEnd(12)} ratio ${String(r.ratio).padEnd(8)} pass ${r.pass}`,
  );
console.log(`wrote ${out}`);
