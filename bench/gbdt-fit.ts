/**
 * CPU time of one GradientBoostingClassifier.fit on a fixed synthetic set (in-process, seeded), with
 * the bench:learn GBDT settings, the ROC-AUC on a held-out quarter and a hash of the fitted trees, so a change to the learner can be
 * measured on a busy machine (CPU time of every thread, not wall) and checked for identical trees.
 *
 *   node --import tsx bench/gbdt-fit.ts [--rows 200000] [--trees 50] [--threads 0] [--subsample 1] [--repeats 1]
 *     [--cats 3] [--test 0.25]      (--cats 0 --test 0: 20 numeric columns, no held-out rows)
 *   node --import tsx bench/gbdt-fit.ts --rows 10000000 --cats 0 --test 0 --trees 20   (bench:learn's 10M-row memory row)
 *   node --cpu-prof --import tsx bench/gbdt-fit.ts --rows 1000000 --trees 20    (profile)
 */
import { createHash } from 'node:crypto';
import { Rng } from '../src/core/random.js';
import { GradientBoostingClassifier, rocAuc } from '../src/learn/index.js';
import { argList, median } from './util.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => Number(argList(args, name, [dflt])[0] ?? dflt);
const n = flag('--rows', '200000');
const trees = flag('--trees', '50');
const threads = flag('--threads', '0');
const repeats = flag('--repeats', '1');

// 20 numeric columns (5% missing) + 3 small-integer category codes, label from a logistic model
const nCats = flag('--cats', '3');
const F = 20 + nCats;
const rng = new Rng(7);
const nTest = Math.round(n * flag('--test', '0.25'));
const data = new Float64Array((n + nTest) * F);
const y = new Float64Array(n + nTest);
for (let i = 0; i < n + nTest; i++) {
  let z = -0.5;
  for (let f = 0; f < 20; f++) {
    const v = rng.normal();
    data[i * F + f] = rng.next() < 0.05 ? Number.NaN : Math.round(v * 1000) / 1000;
    if (f < 8) z += (f % 2 ? 0.6 : -0.4) * v + (f === 2 ? 0.5 * v * v : 0);
  }
  for (let c = 0; c < nCats; c++) {
    const code = rng.int(5 + 5 * c);
    data[i * F + 20 + c] = code;
    z += c === 0 ? (code % 3) * 0.4 - 0.4 : 0;
  }
  y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
}
const names = Array.from({ length: F }, (_, f) => `f${f}`);
const X = { nRows: n, nCols: F, data: data.subarray(0, n * F), names };
const test = { nRows: nTest, nCols: F, data: data.subarray(n * F), names };
const yTrain = y.subarray(0, n);
const yTest = y.subarray(n);
const subsample = flag('--subsample', '1');

const cpus: number[] = [];
const walls: number[] = [];
let hash = '';
let auc = 0;
for (let r = 0; r < repeats; r++) {
  const clf = new GradientBoostingClassifier({
    nEstimators: trees,
    maxDepth: 6,
    learningRate: 0.1,
    maxBins: 254,
    minChildSamples: 1,
    lambda: 1,
    nThreads: threads,
    subsample,
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  clf.fit(X, yTrain);
  walls.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  cpus.push((c.user + c.system) / 1e6);
  auc = nTest > 0 ? rocAuc(yTest, clf.predictProba(test)) : Number.NaN;
  hash = createHash('sha256').update(JSON.stringify(clf.toJSON())).digest('hex').slice(0, 16);
}
console.log(
  JSON.stringify({
    rows: n,
    trees,
    threads,
    subsample,
    test_auc: auc,
    cpu_s: median(cpus),
    wall_s: median(walls),
    cpus,
    walls,
    hash,
    // the whole process's peak (the generated matrix, nRows x F doubles, included)
    rss_peak_mb: process.resourceUsage().maxRSS / 1024,
    data_mb: data.byteLength / 2 ** 20,
  }),
);
