/**
 * One Keel training run in its own process (so peak RSS is this model's alone), mirroring
 * ../shared/bench/train_peers.py: load the CSV, prepare features on the train split, fit, predict
 * the test split, ROC-AUC. Prints one JSON line. Used by bench/learn.ts.
 *
 *   node --import tsx bench/keel-train.ts CSV SPLIT MODEL     (MODEL: gbdt | rf | logreg)
 */
import { readFileSync } from 'node:fs';
import { parseCsv } from '../src/data/csv.js';
import { categoricalColumn, Frame, numericColumn } from '../src/data/frame.js';
import type { ColumnSpec } from '../src/data/schema.js';
import {
  type Classifier,
  FeaturePipeline,
  GradientBoostingClassifier,
  LogisticRegression,
  type Matrix,
  RandomForestClassifier,
  rocAuc,
} from '../src/learn/index.js';

const [csv, splitFile, model] = process.argv.slice(2);
const rss = () => process.resourceUsage().maxRSS / 1024;
const t0 = performance.now();
const parsed = parseCsv(readFileSync(csv, 'utf8'), csv);
const isTest = readFileSync(splitFile, 'utf8').trim().split('\n');
const n = parsed.rows.length;
const num = parsed.header.filter((h) => /^f\d+$/.test(h));
const cat = parsed.header.filter((h) => h.startsWith('cat_'));
const col = (name: string) => parsed.header.indexOf(name);
const frame = new Frame(
  [...num, ...cat],
  [
    ...num.map((h) => numericColumn(parsed.rows.map((r) => (r[col(h)] === '' ? null : Number(r[col(h)]))))),
    ...cat.map((h) => categoricalColumn(parsed.rows.map((r) => r[col(h)]))),
  ],
);
const y = Float64Array.from(parsed.rows, (r) => Number(r[col('label')]));
const train: number[] = [];
const test: number[] = [];
for (let i = 0; i < n; i++) (isTest[i] === '1' ? test : train).push(i);
const loadS = (performance.now() - t0) / 1000;

const t1 = performance.now();
let Xtr: Matrix;
let Xte: Matrix;
if (model === 'logreg') {
  // as the peer: median-imputed, standardized numerics and one-hot categories
  const specs: ColumnSpec[] = [
    ...num.map((name) => ({ name, type: 'number' as const, nullable: true, role: 'feature' as const })),
    ...cat.map((name) => ({ name, type: 'category' as const, nullable: true, role: 'feature' as const })),
  ];
  const fp = new FeaturePipeline({ columns: specs, missingIndicator: false }).fit(frame.take(train));
  Xtr = fp.transform(frame.take(train));
  Xte = fp.transform(frame.take(test));
} else {
  // trees: raw numerics with NaN (missing routed natively) and categories as ordinal codes
  const toMatrix = (rows: number[]): Matrix => {
    const F = num.length + cat.length;
    const data = new Float64Array(rows.length * F);
    const cols = [
      ...num.map((h) => frame.numeric(h)),
      ...cat.map((h) => Float64Array.from(frame.categorical(h).codes)),
    ];
    rows.forEach((r, i) => {
      for (let f = 0; f < F; f++) data[i * F + f] = cols[f][r];
    });
    return { nRows: rows.length, nCols: F, data, names: [...num, ...cat] };
  };
  Xtr = toMatrix(train);
  Xte = toMatrix(test);
}
const ytr = Float64Array.from(train, (r) => y[r]);
const yte = Float64Array.from(test, (r) => y[r]);
const prepS = (performance.now() - t1) / 1000;

const clf: Classifier =
  model === 'gbdt'
    ? new GradientBoostingClassifier({
        nEstimators: 200,
        maxDepth: 6,
        learningRate: 0.1,
        maxBins: 254,
        minChildSamples: 1,
        lambda: 1,
      })
    : model === 'rf'
      ? new RandomForestClassifier({
          nEstimators: 100,
          maxDepth: 64,
          minSamplesLeaf: 1,
          maxFeatures: 'sqrt',
          seed: 0,
        })
      : new LogisticRegression({ C: 1, maxIter: 1000 });
const t2 = performance.now();
const c0 = process.cpuUsage();
clf.fit(Xtr, ytr);
const fitS = (performance.now() - t2) / 1000;
const cpu = process.cpuUsage(c0);
const rssFit = rss();
const t3 = performance.now();
const p = clf.predictProba(Xte);
const predictS = (performance.now() - t3) / 1000;
console.log(
  JSON.stringify({
    model,
    rows: n,
    n_test: test.length,
    load_s: loadS,
    prep_s: prepS,
    fit_s: fitS,
    fit_cpu_s: (cpu.user + cpu.system) / 1e6,
    predict_s: predictS,
    auc: rocAuc(yte, p),
    rss_fit_mb: rssFit,
    rss_peak_mb: rss(),
  }),
);
