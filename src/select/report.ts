/**
 * The evaluation report of a binary classifier from held-out predictions (in keel train: the
 * winner's out-of-fold predictions): metrics with bootstrap confidence intervals, the threshold
 * choice (max F1, or least cost), confusion matrix, ROC and precision-recall curves, calibration,
 * feature importance and metrics per slice. As JSON data, and as one self-contained HTML page
 * (inline SVG, no scripts, no network).
 */
import { KeelError, Rng } from '../core/index.js';
import {
  averagePrecision,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  logLoss,
  rocAuc,
} from '../learn/index.js';

export interface ReportInput {
  title: string;
  /** 0/1 labels and P(1) of the rows evaluated. */
  y: ArrayLike<number>;
  proba: ArrayLike<number>;
  classes: { positive: string; negative: string };
  /** Cost of a false positive and of a false negative: the threshold minimizes the total (else max F1). */
  costs?: { fp: number; fn: number };
  /** Categorical columns to break metrics down by (value per row, null = missing). */
  slices?: { column: string; values: ArrayLike<string | null> }[];
  /** Feature importance (e.g. permutation importance: mean drop in ROC-AUC). */
  importance?: { method: string; values: Record<string, number> };
  /**
   * SHAP summary: per feature, the mean |SHAP value| and the mean SHAP value over the rows
   * explained (TreeSHAP for tree models, exact linear SHAP for logistic regression).
   */
  shap?: { method: string; rows: number; values: Record<string, { meanAbs: number; mean: number }> };
  bootstrap?: { resamples?: number; seed?: number; level?: number };
  notes?: string[];
}

export interface MetricWithCi {
  value: number;
  ci: [number, number];
}

export interface EvaluationReport {
  title: string;
  rows: number;
  positives: number;
  classes: { positive: string; negative: string };
  threshold: { value: number; rule: 'max_f1' | 'min_cost'; costs?: { fp: number; fn: number } };
  metrics: Record<
    'roc_auc' | 'average_precision' | 'log_loss' | 'brier' | 'f1' | 'precision' | 'recall' | 'accuracy',
    MetricWithCi
  >;
  confusion: { tn: number; fp: number; fn: number; tp: number };
  roc: { fpr: number[]; tpr: number[] };
  pr: { recall: number[]; precision: number[] };
  calibration: { predicted: number[]; observed: number[]; count: number[] };
  importance?: { method: string; features: { name: string; value: number }[] };
  shap?: { method: string; rows: number; features: { name: string; meanAbs: number; mean: number }[] };
  slices: {
    column: string;
    value: string;
    rows: number;
    positives: number;
    roc_auc: number;
    f1: number;
    recall: number;
  }[];
  bootstrap: { resamples: number; level: number; seed: number };
  notes: string[];
}

function prf(y: ArrayLike<number>, p: ArrayLike<number>, t: number) {
  const [[tn, fp], [fn, tp]] = confusionMatrix(y, p, t);
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tn, fp, fn, tp, precision, recall, f1, accuracy: (tp + tn) / Math.max(1, y.length) };
}

/** Sweep thresholds over the distinct scores: (fpr, tpr, precision, recall) per cut, and the best cut. */
function sweep(y: ArrayLike<number>, p: ArrayLike<number>, costs?: { fp: number; fn: number }) {
  const n = y.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  let P = 0;
  for (let i = 0; i < n; i++) P += y[i] === 1 ? 1 : 0;
  const N = n - P;
  const fpr = [0];
  const tpr = [0];
  const prec = [1];
  const rec = [0];
  let tp = 0;
  let fp = 0;
  let bestT = 0.5;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; ) {
    const s = p[order[i]];
    for (; i < n && p[order[i]] === s; i++) y[order[i]] === 1 ? tp++ : fp++;
    fpr.push(N ? fp / N : 0);
    tpr.push(P ? tp / P : 0);
    rec.push(P ? tp / P : 0);
    prec.push(tp / (tp + fp));
    const score = costs
      ? -(fp * costs.fp + (P - tp) * costs.fn)
      : tp === 0
        ? 0
        : (2 * tp) / (2 * tp + fp + (P - tp));
    if (score > bestScore) {
      bestScore = score;
      bestT = s;
    }
  }
  return { fpr, tpr, prec, rec, threshold: bestT };
}

/** At most `max` points of a curve, evenly spaced by index, first and last kept. */
function thin(xs: number[], ys: number[], max = 200): [number[], number[]] {
  if (xs.length <= max) return [xs, ys];
  const ox: number[] = [];
  const oy: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (xs.length - 1)) / (max - 1));
    ox.push(xs[i]);
    oy.push(ys[i]);
  }
  return [ox, oy];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Build the report data. */
export function evaluationReport(input: ReportInput): EvaluationReport {
  const y = Float64Array.from(input.y);
  const p = Float64Array.from(input.proba);
  const n = y.length;
  if (n === 0 || p.length !== n)
    throw new KeelError('KEEL_E_INPUT', `evaluationReport: ${n} labels and ${p.length} probabilities`);
  const s = sweep(y, p, input.costs);
  const t = s.threshold;
  const all = (yy: Float64Array, pp: Float64Array) => {
    const c = prf(yy, pp, t);
    return {
      roc_auc: rocAuc(yy, pp),
      average_precision: averagePrecision(yy, pp),
      log_loss: logLoss(yy, pp),
      brier: brierScore(yy, pp),
      f1: c.f1,
      precision: c.precision,
      recall: c.recall,
      accuracy: c.accuracy,
    };
  };
  const point = all(y, p);
  const B = input.bootstrap?.resamples ?? 200;
  const level = input.bootstrap?.level ?? 0.95;
  const seed = input.bootstrap?.seed ?? 42;
  const rng = new Rng(seed);
  const draws: Record<string, number[]> = Object.fromEntries(Object.keys(point).map((k) => [k, []]));
  const yb = new Float64Array(n);
  const pb = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const r = rng.int(n);
      yb[i] = y[r];
      pb[i] = p[r];
      pos += y[r];
    }
    if (pos === 0 || pos === n) continue;
    for (const [k, v] of Object.entries(all(yb, pb))) if (Number.isFinite(v)) draws[k].push(v);
  }
  const tail = (1 - level) / 2;
  const metrics = Object.fromEntries(
    Object.entries(point).map(([k, v]) => {
      const d = draws[k].sort((a, b) => a - b);
      return [k, { value: v, ci: [quantile(d, tail), quantile(d, 1 - tail)] }];
    }),
  ) as EvaluationReport['metrics'];
  const c = prf(y, p, t);
  const [fx, fy] = thin(s.fpr, s.tpr);
  const [rx, ry] = thin(s.rec, s.prec);
  const cal = calibrationCurve(y, p, 10);
  const slices = sliceMetrics(y, p, t, input.slices ?? []);
  return {
    title: input.title,
    rows: n,
    positives: y.reduce((a, b) => a + b, 0),
    classes: input.classes,
    threshold: {
      value: t,
      rule: input.costs ? 'min_cost' : 'max_f1',
      ...(input.costs ? { costs: input.costs } : {}),
    },
    metrics,
    confusion: { tn: c.tn, fp: c.fp, fn: c.fn, tp: c.tp },
    roc: { fpr: fx, tpr: fy },
    pr: { recall: rx, precision: ry },
    calibration: { predicted: cal.probPred, observed: cal.probTrue, count: cal.count },
    ...(input.importance
      ? {
          importance: {
            method: input.importance.method,
            features: Object.entries(input.importance.values)
              .map(([name, value]) => ({ name, value }))
              .sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1)),
          },
        }
      : {}),
    ...(input.shap
      ? {
          shap: {
            method: input.shap.method,
            rows: input.shap.rows,
            features: Object.entries(input.shap.values)
              .map(([name, v]) => ({ name, meanAbs: v.meanAbs, mean: v.mean }))
              .sort((a, b) => b.meanAbs - a.meanAbs || (a.name < b.name ? -1 : 1)),
          },
        }
      : {}),
    slices,
    bootstrap: { resamples: B, level, seed },
    notes: input.notes ?? [],
  };
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');

/** A square line plot in [0,1]² as inline SVG. */
function plot(
  title: string,
  xl: string,
  yl: string,
  series: { xs: number[]; ys: number[]; dots?: boolean }[],
  diagonal: boolean,
): string {
  const S = 260;
  const M = 36;
  const X = (v: number) => (M + v * S).toFixed(1);
  const Y = (v: number) => (M + (1 - v) * S).toFixed(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${S + 2 * M}" height="${S + 2 * M}" role="img" aria-label="${esc(title)}">`,
    `<rect x="${M}" y="${M}" width="${S}" height="${S}" fill="none" stroke="#999"/>`,
    `<text x="${M}" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="${M + S / 2}" y="${S + 2 * M - 6}" font-size="11" text-anchor="middle">${esc(xl)}</text>`,
    `<text x="12" y="${M + S / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${M + S / 2})">${esc(yl)}</text>`,
  ];
  for (const v of [0, 0.5, 1]) {
    parts.push(`<text x="${X(v)}" y="${M + S + 14}" font-size="10" text-anchor="middle">${v}</text>`);
    parts.push(
      `<text x="${M - 4}" y="${Y(v)}" font-size="10" text-anchor="end" dominant-baseline="middle">${v}</text>`,
    );
  }
  if (diagonal)
    parts.push(
      `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#bbb" stroke-dasharray="4"/>`,
    );
  for (const s of series) {
    const pts = s.xs.map((x, i) => `${X(x)},${Y(s.ys[i])}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="#1f5fa8" stroke-width="2"/>`);
    if (s.dots)
      for (let i = 0; i < s.xs.length; i++)
        parts.push(`<circle cx="${X(s.xs[i])}" cy="${Y(s.ys[i])}" r="3" fill="#1f5fa8"/>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => `<td>${typeof v === 'number' ? f4(v) : esc(v)}</td>`;
  return `<table><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</table>`;
}

/** The SHAP summary as inline SVG bars (mean |SHAP| per feature, top 20) and a table with the signed mean. */
function shapSummary(s: NonNullable<EvaluationReport['shap']>): string {
  const top = s.features.slice(0, 20);
  const max = Math.max(1e-12, ...top.map((f) => f.meanAbs));
  const rowH = 18;
  const labelW = 260;
  const barW = 380;
  const bars = top
    .map((f, i) => {
      const w = (f.meanAbs / max) * barW;
      const y = i * rowH;
      return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" font-size="12">${esc(f.name)}</text><rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="#4a78b5"/><text x="${(labelW + w + 4).toFixed(1)}" y="${y + 13}" font-size="11">${f4(f.meanAbs)}</text>`;
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 70}" height="${top.length * rowH + 4}" role="img" aria-label="mean absolute SHAP value per feature">${bars}</svg>`;
  return `<h2>SHAP summary (${esc(s.method)}, ${s.rows} rows)</h2>${svg}${table(
    ['feature', 'mean |SHAP|', 'mean SHAP'],
    top.map((f) => [f.name, f.meanAbs, f.mean]),
  )}`;
}

/** One self-contained HTML page: no scripts, no external resources. */
export function renderReportHtml(r: EvaluationReport): string {
  const pct = Math.round(r.bootstrap.level * 100);
  const metricRows = Object.entries(r.metrics).map(([k, m]) => [k, m.value, m.ci[0], m.ci[1]]);
  const c = r.confusion;
  const imp = r.importance
    ? `<h2>Feature importance (${esc(r.importance.method)})</h2>${table(
        ['feature', 'importance'],
        r.importance.features.slice(0, 20).map((f) => [f.name, f.value]),
      )}`
    : '';
  const shap = r.shap ? shapSummary(r.shap) : '';
  const slices = r.slices.length
    ? `<h2>Metrics per slice</h2>${table(
        ['column', 'value', 'rows', 'positives', 'roc_auc', 'f1', 'recall'],
        r.slices.map((s) => [
          s.column,
          s.value,
          String(s.rows),
          String(s.positives),
          s.roc_auc,
          s.f1,
          s.recall,
        ]),
      )}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1000px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:8px}</style>
</head><body>
<h1>${esc(r.title)}</h1>
<p>${r.rows} rows, ${r.positives} positive ("${esc(r.classes.positive)}") and ${r.rows - r.positives} negative ("${esc(r.classes.negative)}"). Threshold ${f4(r.threshold.value)} (${r.threshold.rule === 'max_f1' ? 'maximum F1' : `least cost, FP ${r.threshold.costs?.fp} / FN ${r.threshold.costs?.fn}`}). Intervals: ${pct}% percentile bootstrap, ${r.bootstrap.resamples} resamples (seed ${r.bootstrap.seed}).</p>
${r.notes.map((n) => `<p>${esc(n)}</p>`).join('\n')}
<h2>Metrics</h2>
${table(['metric', 'value', `${pct}% low`, `${pct}% high`], metricRows as (string | number)[][])}
<h2>Confusion matrix at the threshold</h2>
${table(
  ['', `predicted ${r.classes.negative}`, `predicted ${r.classes.positive}`],
  [
    [`actual ${r.classes.negative}`, String(c.tn), String(c.fp)],
    [`actual ${r.classes.positive}`, String(c.fn), String(c.tp)],
  ],
)}
<div class="plots">
${plot(`ROC (AUC ${f4(r.metrics.roc_auc.value)})`, 'false positive rate', 'true positive rate', [{ xs: r.roc.fpr, ys: r.roc.tpr }], true)}
${plot(`Precision-recall (AP ${f4(r.metrics.average_precision.value)})`, 'recall', 'precision', [{ xs: r.pr.recall, ys: r.pr.precision }], false)}
${plot('Calibration', 'mean predicted probability', 'observed positive rate', [{ xs: r.calibration.predicted, ys: r.calibration.observed, dots: true }], true)}
</div>
${imp}
${shap}
${slices}
</body></html>
`;
}

/**
 * Metrics per value of each slice column (missing values as "(missing)"), largest slice first;
 * F1 and recall at threshold t. The evaluation report's slices and the pipelines' slice gates.
 */
export function sliceMetrics(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  t: number,
  columns: readonly { column: string; values: ArrayLike<string | null> }[],
): EvaluationReport['slices'] {
  const n = y.length;
  const slices: EvaluationReport['slices'] = [];
  for (const sl of columns) {
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const v = sl.values[i] ?? '(missing)';
      let g = groups.get(v);
      if (!g) groups.set(v, (g = []));
      g.push(i);
    }
    for (const [value, rows] of [...groups.entries()].sort((a, b) => b[1].length - a[1].length)) {
      const ys = Float64Array.from(rows, (r) => y[r]);
      const ps = Float64Array.from(rows, (r) => p[r]);
      const m = prf(ys, ps, t);
      slices.push({
        column: sl.column,
        value,
        rows: rows.length,
        positives: ys.reduce((a, b) => a + b, 0),
        roc_auc: rocAuc(ys, ps),
        f1: m.f1,
        recall: m.recall,
      });
    }
  }
  return slices;
}
