import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { KeelError } from '../../core/errors.js';
import {
  formatProfile,
  formatReport,
  loadSchema,
  profileFrame,
  quarantineCsv,
  readCsv,
  renderReportHtml,
  type ValidationReport,
} from '../../data/index.js';

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new KeelError('KEEL_E_USAGE', `${flag} expects a positive integer, got "${v}"`);
  return n;
}

/** --strict: warnings and quarantined rows become errors. */
export function strictVerdict(report: ValidationReport, strict: boolean): ValidationReport {
  if (!strict) return report;
  return {
    ...report,
    ok: report.ok && report.violations.length === 0 && report.quarantined === 0,
    violations: report.violations.map((v) => ({ ...v, severity: 'error' as const })),
  };
}

export function registerDataCommands(program: Command): void {
  const data = program
    .command('data')
    .description('Work with data sets: validate a CSV against a schema, infer a starting schema.');
  data
    .command('validate')
    .description(
      'Check a CSV against a schema and report every violation (rule, column, count, first file lines,\n' +
        'examples, severity). Rows breaking row-level rules are quarantined (--quarantine writes them\n' +
        'with a _keel_reason column); rows in = rows kept + rows quarantined.\n' +
        'Exit codes: 0 the data may be used (warnings and quarantined rows allowed), 1 it must be\n' +
        'rejected, 2 usage error.',
    )
    .argument('<file>', 'the CSV file')
    .requiredOption('-s, --schema <schema.yaml>', 'the schema to check against')
    .option('--json', 'print the report as JSON')
    .option('--strict', 'treat warnings and quarantined rows as errors')
    .option(
      '-q, --quarantine <out.csv>',
      'write the quarantined rows here (with _keel_line and _keel_reason)',
    )
    .option('--html <out.html>', 'write the report as a self-contained HTML page')
    .action(
      async (
        file: string,
        opts: { schema: string; json?: boolean; strict?: boolean; quarantine?: string; html?: string },
      ) => {
        const schema = loadSchema(opts.schema);
        const read = await readCsv(file, schema);
        const report = strictVerdict(read.report, Boolean(opts.strict));
        if (opts.quarantine) writeFileSync(opts.quarantine, quarantineCsv(read.quarantine));
        if (opts.html) writeFileSync(opts.html, renderReportHtml(report));
        process.stdout.write(
          opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report, file)}\n`,
        );
        if (!report.ok) process.exitCode = 1;
      },
    );
  data
    .command('profile')
    .description(
      'Per-column statistics of a CSV: count, missing, distinct, min, max, mean, std, quantiles\n' +
        '(p5 p25 p50 p75 p95), a histogram (numbers) or the top categories. With --schema the\n' +
        'columns are typed by it and quarantined rows are left out; without, types are inferred.',
    )
    .argument('<file>', 'the CSV file')
    .option('-s, --schema <schema.yaml>', 'type the columns by this schema')
    .option('--json', 'print the profile as JSON')
    .option('--bins <n>', 'histogram bins', (v) => positiveInt(v, '--bins'), 10)
    .action(async (file: string, opts: { schema?: string; json?: boolean; bins: number }) => {
      const { frame } = await readCsv(file, opts.schema ? loadSchema(opts.schema) : undefined);
      const profile = profileFrame(frame, { bins: opts.bins });
      process.stdout.write(
        opts.json ? `${JSON.stringify(profile, null, 2)}\n` : `${formatProfile(profile, file)}\n`,
      );
    });
  data
    .command('infer-schema')
    .description('Read a CSV and write a starting schema (types, nullability, categories) to edit by hand.')
    .argument('<file>', 'the CSV file')
    .option('-o, --out <schema.yaml>', 'write the schema here instead of printing it')
    .option(
      '-t, --target <column>',
      'the target column (its classes are read from the data; the positive class is the last one)',
    )
    .action(async (file: string, opts: { out?: string; target?: string }) => {
      const { schema } = await readCsv(file);
      if (opts.target) {
        const col = schema.columns.find((c) => c.name === opts.target);
        if (!col) throw new KeelError('KEEL_E_USAGE', `--target "${opts.target}" is not a column of ${file}`);
        const classes = col.allowed ?? [];
        if (classes.length < 2)
          throw new KeelError(
            'KEEL_E_TARGET',
            `target "${opts.target}" needs at least two classes, found ${classes.length}`,
            { column: opts.target },
          );
        schema.target = { column: opts.target, classes, positive: classes[classes.length - 1] };
      }
      const text = `# inferred by keel data infer-schema from ${file}; review the types, ranges and allowed values\n${stringify(schema)}`;
      if (opts.out) {
        writeFileSync(opts.out, text);
        process.stdout.write(`wrote ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
