/** The printed summary of a classification pipeline run (used by `keel demo` and `keel run`). */
import { renderTable } from '../core/table.js';
import type { Evaluation, GateVerdict, Promotion, Registered, SplitData } from '../recipes/index.js';

export interface SummaryInput {
  runId: string;
  seconds: number;
  results: Evaluation[];
  best: Evaluation;
  gate: GateVerdict;
  registered: Registered;
  promotion: Promotion;
  split: SplitData;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '-');

export function formatSummary(s: SummaryInput): string {
  const lines: string[] = [];
  lines.push(
    '',
    `Models (selected by validation ROC-AUC; metrics on the ${s.split.test.nRows}-row test split)`,
  );
  lines.push(
    renderTable(
      ['model', 'val roc_auc', 'roc_auc', 'accuracy', 'precision', 'recall', 'f1', 'log_loss', 'fit'],
      s.results.map((r) => [
        (r === s.best ? '* ' : '  ') + r.name,
        f4(r.validation.rocAuc),
        f4(r.test.rocAuc),
        f4(r.test.accuracy),
        f4(r.test.precision),
        f4(r.test.recall),
        f4(r.test.f1),
        f4(r.test.logLoss),
        `${r.seconds.toFixed(2)} s`,
      ]),
    ),
  );
  const [[tn, fp], [fn, tp]] = s.best.test.confusionMatrix;
  lines.push('', `Confusion matrix of ${s.best.name} on test (threshold 0.5)`);
  lines.push(
    renderTable(
      ['', `pred ${s.split.signature.target.classes[0]}`, `pred ${s.split.signature.target.classes[1]}`],
      [
        [`true ${s.split.signature.target.classes[0]}`, tn, fp],
        [`true ${s.split.signature.target.classes[1]}`, fn, tp],
      ],
    ),
  );
  lines.push('', `Quality gate: ${s.gate.passed ? 'PASSED' : 'FAILED'}`);
  for (const r of s.gate.reasons) lines.push(`  ${r}`);
  const aliases = ['staging', ...(s.promotion.promoted ? ['production'] : [])];
  lines.push(
    '',
    `Registered: ${s.registered.name} version ${s.registered.version}, aliases: ${aliases.join(', ')}`,
  );
  lines.push(
    `Production: ${s.promotion.promoted ? `moved to version ${s.registered.version}` : `stays at version ${s.promotion.previousVersion}`} (${s.promotion.reason})`,
  );
  lines.push('', 'Sample predictions (first three test rows)');
  const sample = s.split.test.take([0, 1, 2]);
  const pred = s.best.model.predictFrame(sample);
  const shown = s.split.signature.inputs.slice(0, 4).map((c) => c.name);
  lines.push(
    renderTable(
      [...shown, 'probability', 'predicted', 'actual'],
      [0, 1, 2].map((i) => [
        ...shown.map((n) => {
          const v = sample.value(n, i);
          return v === null ? null : typeof v === 'number' ? Math.round(v * 100) / 100 : String(v);
        }),
        f4(pred.probability[i]),
        pred.label[i],
        s.split.signature.target.classes[s.split.yTest[i]],
      ]),
    ),
  );
  lines.push(
    '',
    `Run ${s.runId} finished in ${s.seconds.toFixed(1)} s.  Next: keel runs show ${s.runId.slice(0, 8)}  |  keel serve --model ${s.registered.name}@${s.promotion.promoted ? 'production' : 'staging'}`,
  );
  return lines.join('\n');
}
