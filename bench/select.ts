/**
 * bench:select: Keel's model search (`trainTable`, what `keel train` runs) against the seed's churn
 * pipeline in scikit-learn + XGBoost (../shared/bench/churn_pipeline_py.py: 4 families x
 * RandomizedSearchCV(n_iter=10, StratifiedKFold(5)), n_jobs=2), side by side in alternating rounds,
 * each run in its own process; medians; writes bench/results/select.json in the format of
 * ../shared/BENCH.md and prints a table.
 *
 *   npm run bench:select -- [--rounds 3] [--trials-per-family 10] [--workers 2]
 *
 * Same data: the peer script writes no data file (it generates its 10,000 rows in memory), so
 * bench/churn_data.py calls the peer's own `generate`, `validate` and 80/20 split and writes the
 * rows its search cross-validates (bench/.work/data/churn_10000.train.csv, 7,964 rows, raw columns);
 * Keel searches exactly that CSV. Both sides: four families x 10 trials, 5-fold stratified CV.
 * Keel: logistic regression, random forest, extra trees, gradient boosting; the peer: logistic
 * regression, random forest, scikit-learn gradient boosting, XGBoost. Keel runs what `keel train`
 * runs by default, including its early stopping of hopeless trials (a trial whose first two folds
 * trail the best earlier two-fold mean by more than 0.01 ROC-AUC stops there); a second Keel run
 * per round with early stopping off (all 40 trials x 5 folds) is reported as its own row.
 *
 * Times compared: each side's in-process pipeline, imports excluded. Peer: `total_s` (generate,
 * validate, split, preprocess, the 4 searches with refit, evaluate, save). Keel: `trainTable`
 * (read and infer the CSV, per-fold features, 30 trials x 5 folds on --workers threads, the
 * out-of-fold evaluation report, refit of the winner, registration in a SQLite store). Whole-process
 * wall times (with interpreter start and imports) are reported as a second row.
 *
 * Needs the peers from Debian: apt-get install -y python3-sklearn python3-xgboost python3-pandas python3-scipy
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { argList, machine, median, root, round4, sharedDir, work } from './util.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => argList(args, name, [dflt])[0] ?? dflt;
const py = '/usr/bin/python3';
const dataDir = join(work, 'data');
const rowsN = 10_000;
const trainCsv = join(dataDir, `churn_${rowsN}.train.csv`);

interface KeelResult {
  total_s: number;
  search_s: number;
  trials: number;
  complete: number;
  best_family: string;
  best_auc: number;
  best_auc_by_family: Record<string, number>;
  rows: number;
  workers: number;
  pruned: number;
  folds_run: number;
}

/** The child: one trainTable run, one JSON line on stdout. */
async function keelChild(
  csv: string,
  trialsPerFamily: number,
  workers: number,
  prune: boolean,
): Promise<void> {
  const { defaultFamilies, trainTable } = await import('../src/select/index.js');
  const { openArtifactStore, openStore } = await import('../src/track/index.js');
  const dir = join(work, 'select', `keel-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = await openStore(join(dir, 'keel.db'));
  const families = defaultFamilies();
  const t0 = performance.now();
  const r = await trainTable({
    file: csv,
    target: 'churn',
    drop: ['customer_id'],
    trials: families.length * trialsPerFamily,
    families,
    seed: 0,
    workers,
    // off: no trial trails by more than an infinite margin, so every trial runs all five folds
    ...(prune ? {} : { pruneMargin: Number.POSITIVE_INFINITY }),
    store,
    artifacts: openArtifactStore(join(dir, 'artifacts')),
  });
  const totalS = (performance.now() - t0) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const byFamily: Record<string, number> = {};
  for (const row of r.search.leaderboard)
    byFamily[row.family] = Math.max(byFamily[row.family] ?? 0, row.mean.roc_auc);
  const out: KeelResult = {
    total_s: totalS,
    search_s: r.search.seconds,
    trials: r.search.trials.length,
    complete: r.search.leaderboard.length,
    best_family: r.search.best.family,
    best_auc: r.search.best.mean.roc_auc,
    best_auc_by_family: byFamily,
    rows: r.rows,
    workers: r.search.workers,
    pruned: r.search.trials.filter((t) => t.status === 'pruned').length,
    folds_run: r.search.trials.reduce((a, t) => a + t.folds.length, 0),
  };
  console.log(JSON.stringify(out));
}

interface PeerResult {
  total_s: number;
  stages_s: Record<string, number>;
  best_model: string;
  models: Record<string, { cv_auc: number }>;
  validation: { rows_out: number };
  versions: Record<string, string>;
}

function timed<T>(f: () => T): { value: T; wall: number } {
  const t0 = performance.now();
  const value = f();
  return { value, wall: (performance.now() - t0) / 1000 };
}

function runKeel(
  trialsPerFamily: number,
  workers: number,
  prune: boolean,
): { value: KeelResult; wall: number } {
  return timed(() => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'bench', 'select.ts'),
        '--child',
        trainCsv,
        String(trialsPerFamily),
        String(workers),
        prune ? 'prune' : 'no-prune',
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, KEEL_TRACKING_URI: '' } },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{'))
      throw new Error(`keel search failed: ${r.stderr.slice(-3000)}`);
    return JSON.parse(line) as KeelResult;
  });
}

function runPeer(script: string, nIter: number): { value: PeerResult; wall: number } {
  return timed(() => {
    const r = spawnSync(
      py,
      [
        script,
        '--single',
        '--rows',
        String(rowsN),
        '--seed',
        '0',
        '--n-iter',
        String(nIter),
        '--n-jobs',
        '2',
        '--model-out',
        join(work, 'models', 'churn_best.joblib'),
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, BENCH_WORK_DIR: work } },
    );
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
    if (r.status !== 0 || !line) throw new Error(`churn_pipeline_py.py failed: ${r.stderr.slice(-3000)}`);
    return JSON.parse(line.slice('RESULT '.length)) as PeerResult;
  });
}

interface Row {
  case: string;
  unit: string;
  keel: number;
  peer: number;
  peer_name: string;
  ratio: number;
  better: 'lower' | 'higher';
  goal: number | null;
  must: number | null;
  pass: boolean | null;
  note?: string;
}

async function main(): Promise<void> {
  const rounds = Number(flag('--rounds', '3'));
  const trialsPerFamily = Number(flag('--trials-per-family', '10'));
  const workers = Number(flag('--workers', '2'));
  if (!(rounds >= 1) || !(trialsPerFamily >= 1) || !(workers >= 1))
    throw new Error('--rounds, --trials-per-family and --workers take positive integers');
  const shared = join(sharedDir(), 'bench');
  const script = join(shared, 'churn_pipeline_py.py');
  if (!existsSync(trainCsv)) {
    console.error("writing the peer's churn data with bench/churn_data.py ...");
    const r = spawnSync(
      py,
      [join(root, 'bench', 'churn_data.py'), shared, dataDir, '--rows', String(rowsN)],
      {
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) throw new Error('bench/churn_data.py failed');
  }

  const keel: { value: KeelResult; wall: number }[] = [];
  const keelFull: { value: KeelResult; wall: number }[] = [];
  const peer: { value: PeerResult; wall: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    // alternate which side goes first, so drift in the machine's load falls on both
    const order = i % 2 === 0 ? ['keel', 'peer', 'keel-full'] : ['keel-full', 'peer', 'keel'];
    for (const side of order) {
      if (side === 'keel' || side === 'keel-full') {
        const k = runKeel(trialsPerFamily, workers, side === 'keel');
        (side === 'keel' ? keel : keelFull).push(k);
        console.error(
          `round ${i + 1} ${side}: ${k.value.total_s.toFixed(2)} s (process ${k.wall.toFixed(2)} s), best ${k.value.best_family} ${k.value.best_auc.toFixed(4)}, ${k.value.trials} trials, ${k.value.pruned} stopped early, ${k.value.folds_run} folds`,
        );
      } else {
        const p = runPeer(script, trialsPerFamily);
        peer.push(p);
        const best = p.value.models[p.value.best_model].cv_auc;
        console.error(
          `round ${i + 1} peer: ${p.value.total_s.toFixed(2)} s (process ${p.wall.toFixed(2)} s), best ${p.value.best_model} ${best.toFixed(4)}`,
        );
      }
    }
  }

  const m = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
  const p0 = peer[0].value;
  const peerName = `churn_pipeline_py.py: scikit-learn ${p0.versions.sklearn} RandomizedSearchCV + xgboost ${p0.versions.xgboost}, 4 families x ${trialsPerFamily} trials, n_jobs=2`;
  const rows: Row[] = [];
  const add = (
    c: string,
    unit: string,
    k: number,
    p: number,
    better: 'lower' | 'higher',
    goal: number | null,
    must: number | null,
    pass: boolean | null,
    note?: string,
  ) =>
    rows.push({
      case: c,
      unit,
      keel: round4(k),
      peer: round4(p),
      peer_name: peerName,
      ratio: round4(k / p),
      better,
      goal,
      must,
      pass,
      ...(note ? { note } : {}),
    });
  const kWall = m(keel, (r) => r.value.total_s);
  const pWall = m(peer, (r) => r.value.total_s);
  add(
    'select-churn-wall',
    's',
    kWall,
    pWall,
    'lower',
    0.2,
    0.2,
    kWall / pWall <= 0.2,
    `Keel ${keel[0].value.trials} trials (4 families x ${trialsPerFamily}, --workers ${workers}, keel train's defaults) of which ${median(keel.map((r) => r.value.pruned))} (median) stopped early after 2 of 5 folds (${median(keel.map((r) => r.value.folds_run))} folds run of ${5 * keel[0].value.trials}); the peer's ${4 * trialsPerFamily} trials x 5 folds. Keel's forests search 40-150 trees, the peer's random forest 100-400; in-process pipeline time, imports excluded`,
  );
  const kFull = m(keelFull, (r) => r.value.total_s);
  add(
    'select-churn-wall-no-early-stop',
    's',
    kFull,
    pWall,
    'lower',
    null,
    null,
    null,
    `Keel with early stopping of trials off: all ${keelFull[0].value.trials} trials x 5 folds, as the peer; best CV ROC-AUC ${round4(m(keelFull, (r) => r.value.best_auc))}`,
  );
  add(
    'select-churn-process-wall',
    's',
    m(keel, (r) => r.wall),
    m(peer, (r) => r.wall),
    'lower',
    null,
    null,
    null,
    'whole process: interpreter start, imports, the pipeline',
  );
  const kAuc = m(keel, (r) => r.value.best_auc);
  const pAuc = m(peer, (r) => r.value.models[r.value.best_model].cv_auc);
  add(
    'select-churn-best-cv-auc',
    'roc_auc',
    kAuc,
    pAuc,
    'higher',
    null,
    1,
    kAuc >= pAuc,
    `best mean 5-fold CV ROC-AUC (over complete trials) on the same ${keel[0].value.rows} rows (folds drawn by each side); must: Keel >= peer`,
  );

  const famMedian = (xs: Record<string, number>[]) =>
    Object.fromEntries(Object.keys(xs[0]).map((f) => [f, round4(median(xs.map((x) => x[f] ?? Number.NaN)))]));
  const details = {
    keel_best_auc_by_family: famMedian(keel.map((r) => r.value.best_auc_by_family)),
    keel_no_early_stop_best_auc_by_family: famMedian(keelFull.map((r) => r.value.best_auc_by_family)),
    peer_best_auc_by_family: famMedian(
      peer.map((r) => Object.fromEntries(Object.entries(r.value.models).map(([k, v]) => [k, v.cv_auc]))),
    ),
    keel_trials_stopped_early: keel.map((r) => r.value.pruned),
    keel_folds_run: keel.map((r) => r.value.folds_run),
    keel_s: keel.map((r) => round4(r.value.total_s)),
    keel_no_early_stop_s: keelFull.map((r) => round4(r.value.total_s)),
    peer_s: peer.map((r) => round4(r.value.total_s)),
    load_avg: loadavg().map(round4),
  };
  const result = { date: new Date().toISOString(), machine: machine(), rounds, rows, details };
  const out = join(root, 'bench', 'results', 'select.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  const byFamily = (xs: Record<string, number>[]) =>
    Object.fromEntries(Object.keys(xs[0]).map((f) => [f, round4(median(xs.map((x) => x[f] ?? Number.NaN)))]));
  console.log(
    `Keel best CV ROC-AUC by family (median): ${JSON.stringify(byFamily(keel.map((r) => r.value.best_auc_by_family)))}`,
  );
  console.log(
    `peer best CV ROC-AUC by family (median): ${JSON.stringify(
      byFamily(
        peer.map((r) => Object.fromEntries(Object.entries(r.value.models).map(([k, v]) => [k, v.cv_auc]))),
      ),
    )}`,
  );
  console.log(
    `peer stages (median s): ${JSON.stringify(
      Object.fromEntries(
        Object.keys(p0.stages_s).map((s) => [s, round4(m(peer, (r) => r.value.stages_s[s]))]),
      ),
    )}; Keel search ${round4(m(keel, (r) => r.value.search_s))} s of ${round4(kWall)} s`,
  );
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(
    `${pad('case', 26)} ${pad('unit', 8)} ${pad('keel', 10)} ${pad('peer', 10)} ${pad('ratio', 8)} ${pad('goal', 5)} ${pad('must', 5)} pass`,
  );
  for (const r of rows)
    console.log(
      `${pad(r.case, 26)} ${pad(r.unit, 8)} ${pad(String(r.keel), 10)} ${pad(String(r.peer), 10)} ${pad(String(r.ratio), 8)} ${pad(String(r.goal ?? '-'), 5)} ${pad(String(r.must ?? '-'), 5)} ${r.pass ?? '-'}`,
    );
  console.log(`wrote ${out}`);
}

if (args[0] === '--child') await keelChild(args[1], Number(args[2]), Number(args[3]), args[4] !== 'no-prune');
else await main();
