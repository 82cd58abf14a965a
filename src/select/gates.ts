/**
 * Quality gates: absolute thresholds on a model's metrics, and a champion/challenger comparison
 * on the same rows judged by a paired bootstrap. A verdict is plain data (every check with its
 * value, threshold and outcome) and can be recorded on a run.
 */
import { KeelError, Rng } from '../core/index.js';
import type { TrackingStore } from '../track/index.js';

export interface Threshold {
  metric: string;
  /** The metric must be >= min. */
  min?: number;
  /** The metric must be <= max. */
  max?: number;
}

export interface GateCheck {
  name: string;
  passed: boolean;
  value: number;
  threshold: number;
  op: '>=' | '<=';
  detail?: string;
}

export interface GateVerdict {
  passed: boolean;
  checks: GateCheck[];
  /** One line per check: `pass: roc_auc 0.8412 >= 0.8` or `FAIL: …`. */
  reasons: string[];
}

function reason(c: GateCheck): string {
  const v = Number.isFinite(c.value) ? c.value.toFixed(4) : String(c.value);
  return `${c.passed ? 'pass' : 'FAIL'}: ${c.name} ${v} ${c.op} ${c.threshold}${c.detail ? ` (${c.detail})` : ''}`;
}

/** Combine checks into a verdict: passed when every check passed (and there is at least one). */
export function verdict(checks: GateCheck[]): GateVerdict {
  return { passed: checks.length > 0 && checks.every((c) => c.passed), checks, reasons: checks.map(reason) };
}

/**
 * Absolute thresholds, e.g. [{metric: 'roc_auc', min: 0.8}, {metric: 'log_loss', max: 0.5}].
 * A metric that is missing or NaN fails its check.
 */
export function absoluteGate(
  metrics: Readonly<Record<string, number>>,
  thresholds: readonly Threshold[],
): GateVerdict {
  const checks: GateCheck[] = [];
  for (const t of thresholds) {
    if (t.min === undefined && t.max === undefined)
      throw new KeelError('KEEL_E_USAGE', `threshold on "${t.metric}" needs min or max`);
    const value = metrics[t.metric] ?? Number.NaN;
    if (t.min !== undefined)
      checks.push({ name: t.metric, value, threshold: t.min, op: '>=', passed: value >= t.min });
    if (t.max !== undefined)
      checks.push({ name: t.metric, value, threshold: t.max, op: '<=', passed: value <= t.max });
  }
  return verdict(checks);
}

/** A metric for the bootstrap: 'roc_auc' (fast, weighted) or any function of labels and scores. */
export type BootstrapMetric = 'roc_auc' | ((y: Float64Array, score: Float64Array) => number);

export interface PairedBootstrapOptions {
  metric?: BootstrapMetric;
  /** Resamples (default 1000). */
  resamples?: number;
  seed?: number;
  /** Two-sided interval level (default 0.95). */
  level?: number;
}

export interface PairedBootstrap {
  /** metric(challenger) − metric(champion) on the rows as given. */
  delta: number;
  challenger: number;
  champion: number;
  /** Percentile interval of the resampled deltas. */
  ci: [number, number];
  /** The fraction of resampled deltas <= 0: small means the challenger is reliably better. */
  pNotBetter: number;
  resamples: number;
  /** The resampled deltas, in resampling order. */
  deltas: Float64Array;
}

/** ROC-AUC with row weights (bootstrap counts) over rows pre-sorted by score; ties get half credit. */
function weightedAuc(
  order: Int32Array,
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  w: Int32Array,
): number {
  let negBelow = 0;
  let credit = 0;
  let wPos = 0;
  let i = 0;
  const n = order.length;
  while (i < n) {
    let gPos = 0;
    let gNeg = 0;
    let j = i;
    const s = score[order[i]];
    for (; j < n && score[order[j]] === s; j++) {
      const r = order[j];
      if (y[r] === 1) gPos += w[r];
      else gNeg += w[r];
    }
    credit += gPos * negBelow + 0.5 * gPos * gNeg;
    negBelow += gNeg;
    wPos += gPos;
    i = j;
  }
  return wPos === 0 || negBelow === 0 ? Number.NaN : credit / (wPos * negBelow);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Compare two models' scores on the same rows: resample rows with replacement (the same rows for
 * both models in each resample) and collect metric(challenger) − metric(champion). Resamples
 * where the metric is undefined (one class only) are skipped.
 */
export function pairedBootstrap(
  y: ArrayLike<number>,
  challenger: ArrayLike<number>,
  champion: ArrayLike<number>,
  options: PairedBootstrapOptions = {},
): PairedBootstrap {
  const n = y.length;
  if (challenger.length !== n || champion.length !== n)
    throw new KeelError(
      'KEEL_E_INPUT',
      `pairedBootstrap: ${n} labels, ${challenger.length} challenger and ${champion.length} champion scores`,
    );
  if (n === 0) throw new KeelError('KEEL_E_INPUT', 'pairedBootstrap: no rows');
  const B = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const metric = options.metric ?? 'roc_auc';
  const rng = new Rng(options.seed ?? 42);
  const ones = new Int32Array(n).fill(1);
  let score: (s: ArrayLike<number>, order: Int32Array, w: Int32Array) => number;
  if (metric === 'roc_auc') score = (s, order, w) => weightedAuc(order, y, s, w);
  else {
    const yy = Float64Array.from(y);
    score = (s, _order, w) => {
      if (w === ones) return metric(yy, Float64Array.from(s));
      let m = 0;
      for (let i = 0; i < n; i++) m += w[i];
      const ys = new Float64Array(m);
      const ss = new Float64Array(m);
      let k = 0;
      for (let i = 0; i < n; i++)
        for (let c = 0; c < w[i]; c++) {
          ys[k] = yy[i];
          ss[k++] = s[i];
        }
      return metric(ys, ss);
    };
  }
  const byScore = (s: ArrayLike<number>) =>
    Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => s[a] - s[b] || a - b);
  const oA = metric === 'roc_auc' ? byScore(challenger) : ones;
  const oB = metric === 'roc_auc' ? byScore(champion) : ones;
  const a = score(challenger, oA, ones);
  const b = score(champion, oB, ones);
  const deltas: number[] = [];
  const w = new Int32Array(n);
  for (let r = 0; r < B; r++) {
    w.fill(0);
    for (let i = 0; i < n; i++) w[rng.int(n)]++;
    const d = score(challenger, oA, w) - score(champion, oB, w);
    if (Number.isFinite(d)) deltas.push(d);
  }
  const sorted = Float64Array.from(deltas).sort();
  const tail = (1 - level) / 2;
  let notBetter = 0;
  for (const d of deltas) if (d <= 0) notBetter++;
  return {
    delta: a - b,
    challenger: a,
    champion: b,
    ci: [quantile(sorted, tail), quantile(sorted, 1 - tail)],
    pNotBetter: deltas.length ? notBetter / deltas.length : Number.NaN,
    resamples: deltas.length,
    deltas: Float64Array.from(deltas),
  };
}

export interface ChampionGateOptions extends PairedBootstrapOptions {
  /**
   * The challenger must beat the champion by at least this much (default 0): the lower end of the
   * bootstrap interval of the delta must be >= minDelta. A negative value allows a bounded loss
   * (non-inferiority).
   */
  minDelta?: number;
}

/**
 * Must the challenger replace the champion? Judged on the same rows by a paired bootstrap: the
 * lower end of the interval of metric(challenger) − metric(champion) must reach minDelta.
 */
export function championGate(
  y: ArrayLike<number>,
  challenger: ArrayLike<number>,
  champion: ArrayLike<number>,
  options: ChampionGateOptions = {},
): GateVerdict & { bootstrap: PairedBootstrap } {
  const minDelta = options.minDelta ?? 0;
  const boot = pairedBootstrap(y, challenger, champion, options);
  const name = `${typeof options.metric === 'function' ? 'metric' : (options.metric ?? 'roc_auc')} delta vs champion (CI low)`;
  const check: GateCheck = {
    name,
    value: boot.ci[0],
    threshold: minDelta,
    op: '>=',
    passed: boot.ci[0] >= minDelta,
    detail: `delta ${boot.delta.toFixed(4)}, ${Math.round((options.level ?? 0.95) * 100)}% CI [${boot.ci[0].toFixed(4)}, ${boot.ci[1].toFixed(4)}], ${boot.resamples} paired resamples of ${y.length} rows`,
  };
  return { ...verdict([check]), bootstrap: boot };
}

/** Record a verdict on a run: tags keel.gate (passed/failed) and keel.gate.reasons, one metric per check. */
export async function recordGate(
  store: TrackingStore,
  runId: string,
  v: GateVerdict,
  prefix = 'gate',
): Promise<void> {
  await store.setTags(runId, {
    [`keel.${prefix}`]: v.passed ? 'passed' : 'failed',
    [`keel.${prefix}.reasons`]: v.reasons.join('; '),
  });
  const metrics: Record<string, number> = {};
  for (const c of v.checks)
    if (Number.isFinite(c.value)) metrics[`${prefix}.${c.name.replace(/[^A-Za-z0-9_.]+/g, '_')}`] = c.value;
  await store.logMetrics(runId, metrics);
}

/** Throw KEEL_E_GATE naming the failed checks when the verdict failed. */
export function assertGate(v: GateVerdict, what = 'the model'): void {
  if (!v.passed)
    throw new KeelError(
      'KEEL_E_GATE',
      `quality gate failed for ${what}: ${v.checks.length === 0 ? 'no checks' : v.reasons.filter((r) => r.startsWith('FAIL')).join('; ')}`,
      { rule: 'gate' },
    );
}

/** A per-slice rule: every slice (value) of a categorical column with at least minRows rows must meet it. */
export interface SliceRule {
  column: string;
  min_roc_auc?: number;
  min_f1?: number;
  min_recall?: number;
  /** Slices with fewer rows are reported but not judged (default 30). */
  min_rows?: number;
}

/** One slice's metrics, as in the evaluation report. */
export interface SliceMetrics {
  column: string;
  value: string;
  rows: number;
  roc_auc: number;
  f1: number;
  recall: number;
}

/**
 * Per-slice gate: for each rule, every slice of its column with enough rows must meet the rule's
 * minimums (a slice whose metric is undefined, e.g. one class only, fails). A rule whose column
 * has no slices is a usage error.
 */
export function sliceGate(slices: readonly SliceMetrics[], rules: readonly SliceRule[]): GateVerdict {
  const checks: GateCheck[] = [];
  for (const rule of rules) {
    const mine = slices.filter((s) => s.column === rule.column);
    if (mine.length === 0)
      throw new KeelError('KEEL_E_USAGE', `slice gate: no slices of the column "${rule.column}"`);
    const minRows = rule.min_rows ?? 30;
    const limits = (['roc_auc', 'f1', 'recall'] as const).flatMap((m) => {
      const v = rule[`min_${m}`];
      return v === undefined ? [] : [[m, v] as const];
    });
    if (limits.length === 0)
      throw new KeelError(
        'KEEL_E_USAGE',
        `slice gate on "${rule.column}" needs min_roc_auc, min_f1 or min_recall`,
      );
    const small = mine.filter((s) => s.rows < minRows);
    for (const s of mine) {
      if (s.rows < minRows) continue;
      for (const [m, min] of limits)
        checks.push({
          name: `slice ${s.column}=${s.value} ${m}`,
          value: s[m],
          threshold: min,
          op: '>=',
          passed: s[m] >= min,
          detail: `${s.rows} rows`,
        });
    }
    if (small.length > 0 && checks.length === 0)
      throw new KeelError(
        'KEEL_E_USAGE',
        `slice gate on "${rule.column}": every slice has fewer than ${minRows} rows (min_rows)`,
      );
  }
  return verdict(checks);
}
