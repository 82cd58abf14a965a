/**
 * One Keel training run in its own process (so peak RSS is this model's alone), mirroring
 * ../shared/bench/train_peers.py: load the CSV, prepare features on the train split, fit, predict
 * the test split, ROC-AUC. Prints one JSON line. Used by bench/learn.ts.
 *
 *   node --import tsx bench/keel-train.ts CSV SPLIT MODEL     (MODEL: gbdt | rf | logreg)
 */
import { readFileSync } from 'node:fs';
import { parseCsv } from '../src/data/csv.js';
import { Frame } from '../src/data/frame.js';
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
// The CSV is parsed by Keel's strict parser in blocks of lines, each block turned into typed
// columns before the next is read, so the strings of one block only are alive at a time (parsing
// all 1M rows into strings first took ~1 GB of the process's peak RSS). The columns are those of
// the whole-file parse: numbers with NaN for an empty cell, categories sorted as categoricalColumn
// sorts them.
const BLOCK_LINES = 50_000;
let text: string | null = readFileSync(csv, 'utf8');
const headerEnd = text.indexOf('\n');
const header = parseCsv(text.slice(0, text.indexOf('\n', headerEnd + 1) + 1), csv).header;
const num = header.filter((h) => /^f\d+$/.test(h));
const cat = header.filter((h) => h.startsWith('cat_'));
const col = (name: string) => header.indexOf(name);
const isTest = readFileSync(splitFile, 'utf8').trim().split('\n');
const n = isTest.length;
const numValues = num.map(() => new Float64Array(n));
const catCodes = cat.map(() => new Int32Array(n));
const catSeen = cat.map(() => new Map<string, number>());
const y = new Float64Array(n);
let row = 0;
for (let at = headerEnd + 1; at < text.length; ) {
  let end = at;
  for (let k = 0; k < BLOCK_LINES && end < text.length; k++) {
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
  }
  const block = parseCsv(`${text.slice(0, headerEnd + 1)}${text.slice(at, end)}`, csv).rows;
  for (const r of block) {
    num.forEach((h, j) => {
      const v = r[col(h)];
      numValues[j][row] = v === '' ? Number.NaN : Number(v);
    });
    cat.forEach((h, j) => {
      const v = r[col(h)];
      let c = catSeen[j].get(v);
      if (c === undefined) catSeen[j].set(v, (c = catSeen[j].size));
      catCodes[j][row] = c;
    });
    y[row++] = Number(r[col('label')]);
  }
  at = end;
}
text = null;
if (row !== n) throw new Error(`${csv}: ${row} data rows but ${n} lines in ${splitFile}`);
// categories in categoricalColumn's sorted order
const catColumns = cat.map((_, j) => {
  const dict = [...catSeen[j].keys()].sort();
  const remap = new Int32Array(dict.length);
  for (const [v, c] of catSeen[j]) remap[c] = dict.indexOf(v);
  const codes = catCodes[j].map((c) => remap[c]);
  return { kind: 'categorical' as const, codes, categories: dict };
});
const frame = new Frame(
  [...num, ...cat],
  [...numValues.map((values) => ({ kind: 'numeric' as const, values })), ...catColumns],
);
const rssLoad = rss();
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
    rss_load_mb: rssLoad,
    rss_fit_mb: rssFit,
    rss_peak_mb: rss(),
  }),
);
