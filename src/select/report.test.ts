import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { rocAuc } from '../learn/index.js';
import { evaluationReport, renderReportHtml } from './index.js';

function sample(n: number, seed: number) {
  const rng = new Rng(seed);
  const y = new Float64Array(n);
  const p = new Float64Array(n);
  const seg: string[] = [];
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    y[i] = z + 0.7 * rng.normal() > 0.8 ? 1 : 0;
    p[i] = 1 / (1 + Math.exp(-(2 * z - 1.5)));
    seg.push(i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'c');
  }
  return { y, p, seg };
}

describe('evaluationReport', () => {
  const { y, p, seg } = sample(600, 4);
  const r = evaluationReport({
    title: 'model <x> & y',
    y,
    proba: p,
    classes: { positive: 'Yes', negative: 'No' },
    slices: [{ column: 'segment', values: seg }],
    importance: { method: 'permutation', values: { b: 0.01, a: 0.05 } },
    bootstrap: { resamples: 100, seed: 1 },
  });

  it('metrics with bootstrap intervals around the point values; the max-F1 threshold', () => {
    expect(r.rows).toBe(600);
    expect(r.metrics.roc_auc.value).toBeCloseTo(rocAuc(y, p), 12);
    for (const m of Object.values(r.metrics)) {
      expect(m.ci[0]).toBeLessThanOrEqual(m.value + 1e-9);
      expect(m.ci[1]).toBeGreaterThanOrEqual(m.value - 1e-9);
    }
    expect(r.metrics.roc_auc.ci[1] - r.metrics.roc_auc.ci[0]).toBeGreaterThan(0.005);
    // F1 at the chosen threshold is at least F1 at 0.5 and at every other cut tried below
    const f1At = (t: number) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < y.length; i++) {
        const pred = p[i] >= t;
        if (pred && y[i] === 1) tp++;
        else if (pred) fp++;
        else if (y[i] === 1) fn++;
      }
      return (2 * tp) / (2 * tp + fp + fn);
    };
    expect(r.threshold.rule).toBe('max_f1');
    expect(r.metrics.f1.value).toBeCloseTo(f1At(r.threshold.value), 12);
    for (const t of [0.1, 0.2, 0.3, 0.5, 0.7]) expect(r.metrics.f1.value).toBeGreaterThanOrEqual(f1At(t));
    const c = r.confusion;
    expect(c.tn + c.fp + c.fn + c.tp).toBe(600);
    expect(c.tp + c.fn).toBe(r.positives);
  });

  it('curves, calibration, importance, slices', () => {
    expect(r.roc.fpr[0]).toBe(0);
    expect(r.roc.tpr.at(-1)).toBe(1);
    expect(r.roc.fpr.at(-1)).toBe(1);
    for (let i = 1; i < r.roc.fpr.length; i++) expect(r.roc.fpr[i]).toBeGreaterThanOrEqual(r.roc.fpr[i - 1]);
    expect(r.roc.fpr.length).toBeLessThanOrEqual(200);
    expect(r.pr.recall.at(-1)).toBe(1);
    expect(r.calibration.count.reduce((a, b) => a + b, 0)).toBe(600);
    expect(r.importance?.features.map((f) => f.name)).toEqual(['a', 'b']);
    expect(r.slices.map((s) => s.value)).toEqual(['a', 'b', 'c']);
    expect(r.slices.reduce((a, s) => a + s.rows, 0)).toBe(600);
    const a = [...Array(600).keys()].filter((i) => i % 3 === 0);
    expect(r.slices[0].roc_auc).toBeCloseTo(
      rocAuc(
        a.map((i) => y[i]),
        a.map((i) => p[i]),
      ),
      12,
    );
  });

  it('a cost matrix moves the threshold: costly false negatives lower it', () => {
    const cheapFn = evaluationReport({
      title: 't',
      y,
      proba: p,
      classes: { positive: '1', negative: '0' },
      costs: { fp: 5, fn: 1 },
      bootstrap: { resamples: 10 },
    });
    const costlyFn = evaluationReport({
      title: 't',
      y,
      proba: p,
      classes: { positive: '1', negative: '0' },
      costs: { fp: 1, fn: 5 },
      bootstrap: { resamples: 10 },
    });
    expect(costlyFn.threshold.rule).toBe('min_cost');
    expect(costlyFn.threshold.value).toBeLessThan(cheapFn.threshold.value);
    expect(costlyFn.metrics.recall.value).toBeGreaterThan(cheapFn.metrics.recall.value);
    expect(() =>
      evaluationReport({ title: 't', y: [], proba: [], classes: { positive: '1', negative: '0' } }),
    ).toThrow(/0 labels/);
  });

  it('renders one self-contained HTML page with inline SVG plots', () => {
    const html = renderReportHtml(r);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>model &lt;x&gt; &amp; y</title>');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toMatch(/ROC \(AUC 0\.\d{4}\)/);
    expect(html).toContain('Metrics per slice');
    expect(html).toContain('Feature importance (permutation)');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('a SHAP summary: features by mean |SHAP|, drawn as inline SVG bars', () => {
    const withShap = evaluationReport({
      title: 't',
      y,
      proba: p,
      classes: { positive: 'Yes', negative: 'No' },
      shap: {
        method: 'TreeSHAP',
        rows: 100,
        values: {
          b: { meanAbs: 0.1, mean: -0.02 },
          a: { meanAbs: 0.4, mean: 0.01 },
          c: { meanAbs: 0, mean: 0 },
        },
      },
      bootstrap: { resamples: 20, seed: 1 },
    });
    expect(withShap.shap?.features.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    const html = renderReportHtml(withShap);
    expect(html).toContain('SHAP summary (TreeSHAP, 100 rows)');
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(r.shap).toBeUndefined();
  });
});
