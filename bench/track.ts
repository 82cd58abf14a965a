/**
 * The tracking server over HTTP on loopback, against issue 5's targets: log-batch of 100,000
 * metric points (SQLite ≤ 1 s, PostgreSQL ≤ 2 s), get-history of a 100,000-point metric
 * (≤ 200 ms) and a search over 10,000 runs with a metric filter and ordering (≤ 200 ms).
 * The server is `keel server` in a process of its own on 127.0.0.1 (port 0), as it is deployed,
 * and this process is its HTTP client (`--in-process` runs the server in this process instead,
 * where server and client share one thread); PostgreSQL cases run when the machine's server
 * answers (KEEL_TEST_POSTGRES overrides the URL), each in a fresh schema dropped afterwards.
 * No peer is measured (MLflow is not installed here): `peer` is null, `goal`/`must` are the
 * issue's absolute targets, `pass` says whether the median meets the must. Each backend's server
 * is warmed up first with one 10,000-point batch and its history (a tracking server is a
 * long-running process; the rounds measure it warm, not the JIT compiling it). `server_cpu_s`
 * and `client_cpu_s` are the CPU time per round of the server's process (from /proc; 10 ms
 * resolution) and of this one (PostgreSQL's own processes are in neither): on a shared machine
 * they say how much of the wall time was waiting for a core.
 *
 *   npm run bench:track -- [--rounds 5] [--runs 10000] [--points 100000] [--in-process]
 * writes bench/results/track.json.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTrackingApp } from '../src/server/index.js';
import { openArtifactStore, openStore, type TrackingStore } from '../src/track/index.js';
import { argList, machine, median, root, round4 } from './util.js';

const args = process.argv.slice(2);
const rounds = Math.max(3, Number(argList(args, '--rounds', ['5'])[0]));
const nRuns = Number(argList(args, '--runs', ['10000'])[0]);
const nPoints = Number(argList(args, '--points', ['100000'])[0]);
const inProcess = args.includes('--in-process');
const pgUrl = process.env.KEEL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Row {
  case: string;
  unit: string;
  keel: number;
  peer: null;
  peer_name: null;
  ratio: null;
  better: 'lower';
  goal: number;
  must: number;
  pass: boolean;
  /** Median CPU time per round of the server's process and of the client's, in s. */
  server_cpu_s: number | null;
  client_cpu_s: number;
  rounds: number;
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms of another process so far (utime + stime from /proc, in clock ticks of 10 ms); null if unknown. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

interface Sample {
  ms: number;
  cpuMs: number;
  serverCpuMs: number | null;
}

let serverPid: number | undefined;

async function timed(fn: () => Promise<void>): Promise<Sample> {
  const c = cpuMs();
  const sc = processCpuMs(serverPid);
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  const sc2 = processCpuMs(serverPid);
  return { ms, cpuMs: cpuMs() - c, serverCpuMs: sc === null || sc2 === null ? null : sc2 - sc };
}

/** `keel server` in a child process; resolves with its URL once it listens. */
async function spawnServer(
  storeUrl: string,
  artifacts: string,
): Promise<{ base: string; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['bin/keel.js', 'server', '--port', '0', '--store', storeUrl, '--artifacts', artifacts],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /server on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`keel server exited ${code}: ${err}`)));
  });
  child.removeAllListeners('exit');
  serverPid = child.pid;
  return {
    base: base.replace('localhost', '127.0.0.1'),
    stop: () =>
      new Promise<void>((resolve) => {
        serverPid = undefined;
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function post(base: string, path: string, body: string): Promise<unknown> {
  const r = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

async function benchBackend(name: string, storeUrl: string, goals: { batch: number }): Promise<Row[]> {
  const store: TrackingStore = await openStore(storeUrl);
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-track-'));
  let base: string;
  let stop: () => Promise<void>;
  if (inProcess) {
    const app = createTrackingApp({ store, artifacts: openArtifactStore(join(dir, 'artifacts')) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    stop = () => app.close();
  } else ({ base, stop } = await spawnServer(storeUrl, join(dir, 'artifacts')));
  const rows: Row[] = [];
  const row = (c: string, samples: Sample[], goal: number): Row => {
    const ms = samples.map((x) => x.ms);
    const keel = median(ms) / 1000;
    const cpu = median(samples.map((x) => x.cpuMs)) / 1000;
    const server = samples.every((x) => x.serverCpuMs !== null)
      ? median(samples.map((x) => x.serverCpuMs as number)) / 1000
      : null;
    console.log(
      `${name.padEnd(10)} ${c.padEnd(34)} ${ms.map((x) => x.toFixed(0)).join(', ')} ms  (median ${(keel * 1000).toFixed(0)} ms, CPU server ${server === null ? '-' : (server * 1000).toFixed(0)} + client ${(cpu * 1000).toFixed(0)} ms, must ≤ ${goal * 1000} ms)`,
    );
    return {
      case: c,
      unit: 's',
      keel: round4(keel),
      peer: null,
      peer_name: null,
      ratio: null,
      better: 'lower',
      goal,
      must: goal,
      pass: keel <= goal,
      server_cpu_s: server === null ? null : round4(server),
      client_cpu_s: round4(cpu),
      rounds: samples.length,
    };
  };
  try {
    const exp = (
      (await post(base, 'experiments/create', JSON.stringify({ name: 'bench' }))) as { experiment_id: string }
    ).experiment_id;
    const t0 = Date.now();
    const metrics = Array.from({ length: nPoints }, (_, i) => ({
      key: 'loss',
      value: 1 / (i + 1),
      timestamp: t0 + i,
      step: i,
    }));
    const logAndRead = async (points: typeof metrics, samples?: { batch: Sample[]; history: Sample[] }) => {
      const run = (await post(base, 'runs/create', JSON.stringify({ experiment_id: exp }))) as {
        run: { info: { run_id: string } };
      };
      const runId = run.run.info.run_id;
      const body = JSON.stringify({ run_id: runId, metrics: points });
      const batch = await timed(async () => void (await post(base, 'runs/log-batch', body)));
      const history = await timed(async () => {
        const h = (await (
          await fetch(`${base}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`)
        ).json()) as { metrics: unknown[] };
        if (h.metrics.length !== points.length) throw new Error(`history has ${h.metrics.length} points`);
      });
      samples?.batch.push(batch);
      samples?.history.push(history);
    };
    await logAndRead(metrics.slice(0, 10_000)); // warm-up, not measured
    const samples = { batch: [] as Sample[], history: [] as Sample[] };
    for (let r = 0; r < rounds; r++) await logAndRead(metrics, samples);
    const batchMs = samples.batch;
    const historyMs = samples.history;
    rows.push(row(`log-batch-${nPoints / 1000}k-${name.toLowerCase()}`, batchMs, goals.batch));
    rows.push(row(`get-history-${nPoints / 1000}k-${name.toLowerCase()}`, historyMs, 0.2));

    // 10,000 runs with params and metrics, written through the store (8 at a time)
    const tSeed = performance.now();
    for (let i = 0; i < nRuns; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, nRuns - i) }, async (_, j) => {
          const k = i + j;
          const r = await store.createRun({
            experiment: 'search',
            name: `run${k}`,
            tags: { team: k % 3 ? 'risk' : 'growth' },
          });
          await store.logBatch(r.id, {
            metrics: [
              { key: 'auc', value: ((k * 7919) % 1000) / 1000, step: 0 },
              { key: 'loss', value: k / nRuns, step: 0 },
            ],
            params: { model: ['gbdt', 'rf', 'logreg'][k % 3], depth: k % 10 },
          });
        }),
      );
    }
    console.log(
      `${name.padEnd(10)} seeded ${nRuns} runs in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`,
    );
    const searchExp = (await store.getExperimentByName('search')).id;
    const search = JSON.stringify({
      experiment_ids: [searchExp],
      filter: "metrics.auc > 0.5 and params.model = 'gbdt'",
      order_by: ['metrics.auc DESC'],
      max_results: 100,
    });
    const searchMs: Sample[] = [];
    for (let r = 0; r < Math.max(rounds, 5); r++)
      searchMs.push(
        await timed(async () => {
          const res = (await post(base, 'runs/search', search)) as { runs: unknown[] };
          if (res.runs.length !== 100) throw new Error(`search found ${res.runs.length} runs`);
        }),
      );
    rows.push(row(`search-${nRuns / 1000}k-runs-${name.toLowerCase()}`, searchMs, 0.2));
  } finally {
    await stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const rows: Row[] = [];
const loadBefore = loadavg()[0];
const liteDir = mkdtempSync(join(tmpdir(), 'keel-bench-sqlite-'));
rows.push(...(await benchBackend('SQLite', join(liteDir, 'keel.db'), { batch: 1 })));
rmSync(liteDir, { recursive: true, force: true });
if (await pgReachable()) {
  const schema = `keel_bench_${randomBytes(4).toString('hex')}`;
  try {
    rows.push(...(await benchBackend('PostgreSQL', `${pgUrl}?schema=${schema}`, { batch: 2 })));
  } finally {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
} else console.log(`PostgreSQL at ${pgUrl} does not answer: its cases are skipped`);

// the 1-minute load average before and after: how busy the shared machine was
const load = [round4(loadBefore), round4(loadavg()[0])];
const out = { date: new Date().toISOString(), machine: { ...machine(), load }, rows };
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'track.json'), `${JSON.stringify(out, null, 2)}\n`);
const failed = rows.filter((r) => !r.pass);
console.log(
  failed.length === 0
    ? 'every case meets its must'
    : `over the must: ${failed.map((r) => r.case).join(', ')}`,
);
