/**
 * Views of a validation report: a terminal table, a self-contained HTML page, the quarantine as
 * CSV, and the assertion a pipeline uses to stop on error-severity violations. JSON is the report
 * object itself.
 */
import { KeelError } from '../core/errors.js';
import { quarantineLine } from './csv-stream.js';
import type { Quarantine, ValidationReport, Violation } from './validate.js';

function lineList(v: Violation): string {
  return v.rows.length ? `${v.rows.join(', ')}${v.count > v.rows.length ? ', …' : ''}` : '-';
}

function exampleList(v: Violation): string {
  return v.examples.length ? v.examples.map((e) => JSON.stringify(e)).join(', ') : '-';
}

/** A plain-text table: aligned columns, the last column left ragged. */
function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The headline: file, rows in/kept/quarantined, usable or REJECTED, counts of error and warning rules. */
export function reportSummary(report: ValidationReport, file = report.file): string {
  const errors = report.violations.filter((v) => v.severity === 'error').length;
  const warnings = report.violations.length - errors;
  return `${file}: ${report.rows} rows in, ${report.kept} kept, ${report.quarantined} quarantined; ${report.ok ? 'usable' : 'REJECTED'} (${errors} error rule${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`;
}

/** The report as text: the headline, then one table row per violation (file lines, examples). */
export function formatReport(report: ValidationReport, file = report.file): string {
  const head = reportSummary(report, file);
  if (report.violations.length === 0) return head;
  const rows = report.violations.map((v) => [
    v.severity,
    v.rule,
    v.column ?? '-',
    String(v.count),
    v.quarantined ? 'quarantine' : '-',
    lineList(v),
    exampleList(v),
    v.message,
  ]);
  return `${head}\n${textTable(['severity', 'rule', 'column', 'count', 'action', 'lines', 'examples', 'message'], rows)}`;
}

/**
 * Throw KEEL_E_VALIDATION listing every error-severity violation (and the quarantined rules)
 * when the report rejects the data.
 */
export function assertValid(report: ValidationReport, file = report.file): void {
  if (report.ok) return;
  const errors = report.violations.filter((v) => v.severity === 'error');
  // locate the error at the earliest line (table-level ones, without lines, come last)
  const first = errors.reduce((a, b) =>
    (b.rows[0] ?? Number.POSITIVE_INFINITY) < (a.rows[0] ?? Number.POSITIVE_INFINITY) ? b : a,
  );
  const describe = (v: Violation) =>
    `column "${v.column ?? '-'}" [${v.rule}] ${v.count} row${v.count === 1 ? '' : 's'}${v.rows[0] !== undefined ? ` (first: line ${v.rows[0]}${v.examples[0] !== undefined ? `, value ${JSON.stringify(v.examples[0])}` : ''})` : `: ${v.message}`}`;
  const quarantined = report.violations.filter((v) => v.quarantined);
  const q = quarantined.length
    ? `; ${report.quarantined} of ${report.rows} rows quarantined: ${quarantined.map(describe).join('; ')}`
    : '';
  throw new KeelError(
    'KEEL_E_VALIDATION',
    `${file} failed validation: ${errors.map(describe).join('; ')}${q}`,
    { file, row: first.rows[0], column: first.column ?? undefined, rule: first.rule },
    { details: report },
  );
}

/** The quarantined rows as CSV: the file's columns as read, then `_keel_line` and `_keel_reason`. */
export function quarantineCsv(q: Quarantine): string {
  let out = quarantineLine([...q.header, '_keel_line', '_keel_reason']);
  for (let i = 0; i < q.rows.length; i++) out += quarantineLine(q.rows[i], q.lines[i], q.reasons[i]);
  return out;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One offline HTML page (no scripts, no external resources) showing the report. */
export function renderReportHtml(report: ValidationReport, title = report.file): string {
  const rows = report.violations
    .map(
      (v) =>
        `<tr class="${v.severity}"><td>${v.severity}</td><td>${esc(v.rule)}</td><td>${esc(v.column ?? '-')}</td><td class="n">${v.count}</td><td>${v.quarantined ? 'quarantine' : '-'}</td><td>${esc(lineList(v))}</td><td>${esc(exampleList(v))}</td><td>${esc(v.message)}</td></tr>`,
    )
    .join('\n');
  const verdict = report.ok ? 'usable' : 'REJECTED';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation: ${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}tr.error td:first-child{color:#b00020;font-weight:bold}
tr.warning td:first-child{color:#a15c00}.ok{color:#1b7f3b}.bad{color:#b00020}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
</style></head><body>
<h1>Validation report</h1>
<p>${esc(report.file)}: <strong class="${report.ok ? 'ok' : 'bad'}">${verdict}</strong></p>
<dl><dt>rows in</dt><dd>${report.rows}</dd><dt>rows kept</dt><dd>${report.kept}</dd><dt>rows quarantined</dt><dd>${report.quarantined}</dd><dt>columns</dt><dd>${report.columns}</dd></dl>
${report.violations.length ? `<table><thead><tr><th>severity</th><th>rule</th><th>column</th><th>count</th><th>action</th><th>lines</th><th>examples</th><th>message</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : '<p>No violations.</p>'}
</body></html>
`;
}
