/**
 * Distribution expectations (a column's `expect:` in the schema) checked on the kept rows after
 * typing: bounds on the mean and standard deviation, and a maximum PSI against a reference
 * profile. They are table-level rules, so a broken one is an error.
 */
import type { Frame } from './frame.js';
import { type DataProfile, profileFrame, psi } from './profile.js';
import type { Schema } from './schema.js';
import type { ValidationReport, Violation } from './validate.js';

function fmt(x: number): string {
  return String(Math.round(x * 1e4) / 1e4);
}

/** The report with the expectation violations added (and `ok` recomputed). */
export function checkExpectations(
  report: ValidationReport,
  frame: Frame,
  schema: Schema,
  reference?: DataProfile,
): ValidationReport {
  const specs = schema.columns.filter((c) => c.expect && frame.has(c.name));
  if (specs.length === 0) return report;
  const profile = profileFrame(frame.select(specs.map((c) => c.name)), { reference });
  const refCols = new Map((reference?.columns ?? []).map((c) => [c.name, c]));
  const out: Violation[] = [];
  const add = (rule: string, column: string, message: string, severity: 'error' | 'warning' = 'error') =>
    out.push({ rule, column, severity, count: 1, rows: [], examples: [], message, quarantined: false });
  specs.forEach((spec, i) => {
    const e = spec.expect!;
    const p = profile.columns[i];
    for (const stat of ['mean', 'std'] as const) {
      const b = e[stat];
      if (!b) continue;
      const v = p[stat];
      if (v === null) {
        add(stat, spec.name, `"${spec.name}" has no ${stat} (not a number column, or no values)`);
        continue;
      }
      if (b.min !== undefined && v < b.min)
        add(
          stat,
          spec.name,
          `the ${stat} of "${spec.name}" is ${fmt(v)}, the schema wants at least ${b.min}`,
        );
      if (b.max !== undefined && v > b.max)
        add(
          stat,
          spec.name,
          `the ${stat} of "${spec.name}" is ${fmt(v)}, the schema allows at most ${b.max}`,
        );
    }
    if (e.max_psi !== undefined) {
      const ref = refCols.get(spec.name);
      if (!ref) {
        add('psi', spec.name, `no reference profile for "${spec.name}": max_psi not checked`, 'warning');
        return;
      }
      const value = psi(ref, p);
      if (Number.isNaN(value) || value > e.max_psi)
        add(
          'psi',
          spec.name,
          `the PSI of "${spec.name}" against the reference is ${Number.isNaN(value) ? 'undefined' : fmt(value)}, the schema allows at most ${e.max_psi}`,
        );
    }
  });
  const violations = [...report.violations, ...out];
  return { ...report, violations, ok: violations.every((v) => v.severity !== 'error') };
}
