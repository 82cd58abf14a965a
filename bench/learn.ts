/**
 * bench:learn: Keel's learners against the peers of ../shared/bench/train_peers.py (XGBoost hist,
 * scikit-learn RandomForest and LogisticRegression), side by side on the same files and split,
 * alternating Keel and peer runs for several rounds; medians; writes bench/results/learn.json in the
 * format of ../shared/BENCH.md and prints a table.
 *
 *   npm run bench:learn -- [--sizes 100k 1m 10m] [--models gbdt rf logreg] [--rounds 3] [--big-trees 20]
 *
 * Size 10m is a memory check with no peer: gen_data.py has no 10M size, so bench/gbdt-fit.ts
 * generates 10,000,000 rows x 20 numeric columns (5% missing, label from a logistic model) in its
 * own process and fits the GBDT (depth 6, lr 0.1, 255 bins, --big-trees trees: peak memory is
 * reached in the first tree); the row is that process's peak RSS, the generated matrix included.
 *
 * Needs the peers from Debian: apt-get install -y python3-sklearn python3-xgboost python3-pandas python3-scipy
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { argList, machine, median, root, round4, sharedDir, work } from './util.js';

const shared = sharedDir();
const dataDir = join(work, 'data');
const args = process.argv.slice(2);
const list = (flag: string, dflt: string[]) => argList(args, flag, dflt);
const sizes = list('--sizes', ['100k', '1m']);
const models = list('--models', ['gbdt', 'rf', 'logreg']);
const rounds = Number(list('--rounds', ['3'])[0]);
const peerOf: Record<string, { model: string; name: string }> = {
  gbdt: { model: 'xgb_hist', name: 'xgboost hist nthread=2' },
  rf: { model: 'rf', name: 'scikit-learn RandomForestClassifier n_jobs=2' },
  logreg: { model: 'logreg', name: 'scikit-learn LogisticRegression lbfgs' },
};
const py = '/usr/bin/python3';
const env = { ...process.env, BENCH_WORK_DIR: work };

interface Run {
  fit_s: number;
  /** CPU seconds of the fit, all threads (both sides measure it around the fit call). */
  fit_cpu_s: number;
  predict_s: number;
  auc: number;
  rss_peak_mb: number;
  n_test: number;
}

function ensureData(size: string): void {
  if (existsSync(join(dataDir, `gbdt_${size}.csv`)) && existsSync(join(dataDir, `gbdt_${size}.split.txt`)))
    return;
  console.error(`generating gbdt_${size}.csv with the peer's gen_data.py ...`);
  execFileSync(py, [join(shared, 'bench', 'gen_data.py'), '--sizes', size], { env, stdio: 'inherit' });
}

function keelRun(size: string, model: string): Run {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench', 'keel-train.ts'),
      join(dataDir, `gbdt_${size}.csv`),
      join(dataDir, `gbdt_${size}.split.txt`),
      model,
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`keel ${model} ${size} failed: ${r.stderr}`);
  return JSON.parse(line);
}

function peerRun(size: string, model: string): Run {
  const out = join(work, 'results', 'peer-tmp.json');
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(
    py,
    [
      join(shared, 'bench', 'train_peers.py'),
      '--sizes',
      size,
      '--models',
      peerOf[model].model,
      '--repeats',
      '1',
      '--max-attempts',
      '1',
      '--fresh',
      '--out',
      out,
    ],
    {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"fit_s"'));
  if (!line) throw new Error(`peer ${model} ${size} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

interface Row {
  case: string;
  unit: string;
  keel: number;
  peer: number | null;
  peer_name: string;
  ratio: number | null;
  better: 'lower' | 'higher';
  goal: number | null;
  must: number | null;
  pass: boolean | null;
  note?: string;
}
const rows: Row[] = [];
const ratioRow = (
  c: string,
  unit: string,
  keel: number,
  peer: number,
  peerName: string,
  better: 'lower' | 'higher',
  goal: number | null,
  must: number | null,
  note?: string,
) => {
  const ratio = keel / peer;
  const pass = must === null ? null : better === 'lower' ? ratio <= must : ratio >= must;
  rows.push({
    case: c,
    unit,
    keel: round(keel),
    peer: round(peer),
    peer_name: peerName,
    ratio: round(ratio),
    better,
    goal,
    must,
    pass,
    ...(note ? { note } : {}),
  });
};
const round = round4;

/** The 10M-row memory row: one generated fit in its own process (see the header). */
function bigRun(): void {
  const trees = list('--big-trees', ['20'])[0];
  console.error(`[10m gbdt] 10,000,000 x 20 generated, ${trees} trees ...`);
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench', 'gbdt-fit.ts'),
      ...['--rows', '10000000', '--cats', '0', '--test', '0', '--trees', trees],
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`keel gbdt 10m failed: ${r.stderr}`);
  const run = JSON.parse(line) as { rss_peak_mb: number; wall_s: number; cpu_s: number; data_mb: number };
  const what = `10,000,000 x 20 generated in-process (bench/gbdt-fit.ts --cats 0 --test 0), ${trees} trees depth 6`;
  rows.push({
    case: 'gbdt-rss-10m',
    unit: 'MB',
    keel: round(run.rss_peak_mb),
    peer: null,
    peer_name: 'none (memory check)',
    ratio: null,
    better: 'lower',
    goal: null,
    must: null,
    pass: run.rss_peak_mb <= 8192,
    note: `must: the fit completes within 8 GB (peak RSS of the whole process, the ${round(run.data_mb)} MB input matrix included); ${what}`,
  });
  rows.push({
    case: 'gbdt-fit-10m',
    unit: 's',
    keel: round(run.wall_s),
    peer: null,
    peer_name: 'none (informational)',
    ratio: null,
    better: 'lower',
    goal: null,
    must: null,
    pass: null,
    note: `fit wall time, CPU ${round(run.cpu_s)} s; ${what}`,
  });
}

for (const size of sizes) {
  if (size === '10m') {
    if (models.includes('gbdt')) bigRun();
    continue;
  }
  ensureData(size);
  for (const model of models) {
    const keel: Run[] = [];
    const peer: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      console.error(`[${size} ${model}] round ${i + 1}/${rounds}: keel ...`);
      keel.push(keelRun(size, model));
      console.error(`[${size} ${model}] round ${i + 1}/${rounds}: ${peerOf[model].model} ...`);
      peer.push(peerRun(size, model));
    }
    const k = (f: keyof Run) => median(keel.map((r) => r[f]));
    const p = (f: keyof Run) => median(peer.map((r) => r[f]));
    const name = peerOf[model].name;
    if (model === 'gbdt') {
      ratioRow(`gbdt-fit-${size}`, 's', k('fit_s'), p('fit_s'), name, 'lower', 1.0, 2.0);
      // informational: CPU time says less about waiting on a loaded machine than wall time does
      ratioRow(
        `gbdt-fit-cpu-${size}`,
        's',
        k('fit_cpu_s'),
        p('fit_cpu_s'),
        name,
        'lower',
        null,
        null,
        'CPU seconds of the fit (all threads), informational',
      );
      const dAuc = k('auc') - p('auc');
      rows.push({
        case: `gbdt-auc-${size}`,
        unit: 'roc_auc',
        keel: round(k('auc')),
        peer: round(p('auc')),
        peer_name: name,
        ratio: round(k('auc') / p('auc')),
        better: 'higher',
        goal: null,
        must: null,
        pass: Math.abs(dAuc) <= 0.003 || dAuc > 0,
        note: 'must: test ROC-AUC within 0.003 of the peer',
      });
      const rowsPerS = (r: Run) => r.n_test / r.predict_s;
      ratioRow(
        `gbdt-predict-${size}`,
        'rows/s',
        median(keel.map(rowsPerS)),
        median(peer.map(rowsPerS)),
        name,
        'higher',
        1.0,
        1.0,
      );
      if (size === '1m')
        rows.push({
          case: 'gbdt-rss-1m',
          unit: 'MB',
          keel: round(k('rss_peak_mb')),
          peer: round(p('rss_peak_mb')),
          peer_name: name,
          ratio: round(k('rss_peak_mb') / p('rss_peak_mb')),
          better: 'lower',
          goal: null,
          must: null,
          pass: k('rss_peak_mb') <= 1536,
          note: 'must: peak RSS of the whole process at most 1.5 GB',
        });
    } else if (model === 'rf')
      ratioRow(`rf-fit-${size}`, 's', k('fit_s'), p('fit_s'), name, 'lower', 1.0, 1.0);
    else ratioRow(`logreg-fit-${size}`, 's', k('fit_s'), p('fit_s'), name, 'lower', null, 2.0);
    if (model !== 'gbdt')
      rows.push({
        case: `${model}-auc-${size}`,
        unit: 'roc_auc',
        keel: round(k('auc')),
        peer: round(p('auc')),
        peer_name: name,
        ratio: round(k('auc') / p('auc')),
        better: 'higher',
        goal: null,
        must: null,
        pass: null,
      });
  }
}

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  rounds,
  rows,
};
const out = join(root, 'bench', 'results', 'learn.json');
mkdirSync(dirname(out), { recursive: true });
let merged = result;
if (existsSync(out)) {
  // keep rows of cases not rerun this time
  const old = JSON.parse(readFileSync(out, 'utf8')) as typeof result;
  const fresh = new Set(rows.map((r) => r.case));
  merged = { ...result, rows: [...old.rows.filter((r) => !fresh.has(r.case)), ...rows] };
}
writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `${pad('case', 20)} ${pad('unit', 8)} ${pad('keel', 12)} ${pad('peer', 12)} ${pad('ratio', 8)} ${pad('must', 6)} pass`,
);
for (const r of merged.rows)
  console.log(
    `${pad(r.case, 20)} ${pad(r.unit, 8)} ${pad(String(r.keel), 12)} ${pad(String(r.peer), 12)} ${pad(String(r.ratio), 8)} ${pad(String(r.must ?? '-'), 6)} ${r.pass ?? '-'}`,
  );
console.log(`wrote ${out}`);
