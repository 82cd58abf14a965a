import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { KeelError } from '../../core/errors.js';
import {
  type DataProfile,
  type DatasetDiff,
  type DatasetVersion,
  formatProfile,
  formatReport,
  loadSchema,
  openDatasetStore,
  profileFrameParallel,
  readTable,
  renderReportHtml,
  type ValidationReport,
} from '../../data/index.js';
import { type GlobalOptions, openContext } from '../context.js';

function readProfile(path: string): DataProfile {
  let doc: DataProfile;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as DataProfile;
  } catch (e) {
    throw new KeelError(
      'KEEL_E_USAGE',
      `--reference ${path} is not a readable profile JSON: ${(e as Error).message}`,
    );
  }
  if (!Array.isArray(doc?.columns))
    throw new KeelError('KEEL_E_USAGE', `--reference ${path} is not a profile (no "columns")`);
  return doc;
}

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

function datasets(program: Command) {
  return openDatasetStore(join(openContext(program.opts<GlobalOptions>()).loaded.root, '.keel', 'datasets'));
}

function short(v: DatasetVersion): string {
  return `${v.name}@${v.version} (sha256 ${v.sha256.slice(0, 12)}, ${v.rows} rows x ${v.columns} columns)`;
}

function fmtNum(x: number | null): string {
  if (x === null) return '-';
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1e4) / 1e4);
}

/** keel data diff as text: row delta, then one line per added, removed or changed column. */
export function formatDiff(d: DatasetDiff): string {
  const sign = d.rows_delta > 0 ? '+' : '';
  const out = [
    `${d.a.ref} -> ${d.b.ref}: rows ${d.a.rows} -> ${d.b.rows} (${sign}${d.rows_delta})${d.same_content ? ', same content' : ''}${d.a.schema_sha256 === d.b.schema_sha256 ? ', same schema' : ', schema changed'}`,
  ];
  for (const c of d.columns) {
    if (c.change !== 'changed') {
      out.push(`  ${c.change === 'added' ? '+' : '-'} column "${c.column}" ${c.change}`);
      continue;
    }
    const parts = [
      ...c.schema,
      ...Object.entries(c.stats).map(([k, v]) => `${k} ${fmtNum(v.a)} -> ${fmtNum(v.b)}`),
    ];
    if (c.psi !== null) parts.push(`psi ${fmtNum(c.psi)}`);
    out.push(`  ~ column "${c.column}": ${parts.join('; ')}`);
  }
  return out.join('\n');
}

export function registerDataCommands(program: Command): void {
  const data = program
    .command('data')
    .description(
      'Work with data sets: validate a CSV against a schema (with quarantine), profile it, infer a\n' +
        'starting schema, and keep content-addressed versions (add, ls, diff, push, pull).',
    );
  data
    .command('validate')
    .description(
      'Check a CSV against a schema and report every violation (rule, column, count, first file lines,\n' +
        'examples, severity). Rows breaking row-level rules are quarantined (--quarantine writes them\n' +
        'with a _keel_reason column); rows in = rows kept + rows quarantined.\n' +
        'Exit codes: 0 the data may be used (warnings and quarantined rows allowed), 1 it must be\n' +
        'rejected, 2 usage error.',
    )
    .argument(
      '<file>',
      'the data: a .csv, .tsv, .parquet, .json or .ndjson/.jsonl file, a quoted glob, a .dvc file, s3://bucket/key.csv or postgres://…?table=T',
    )
    .requiredOption('-s, --schema <schema.yaml>', 'the schema to check against')
    .option('--json', 'print the report as JSON')
    .option('--strict', 'treat warnings and quarantined rows as errors')
    .option(
      '-q, --quarantine <out.csv>',
      'write the quarantined rows here (with _keel_line and _keel_reason)',
    )
    .option('--html <out.html>', 'write the report as a self-contained HTML page')
    .option('--no-header', "the CSV has no header line: its columns are the schema's, in order")
    .option(
      '-r, --reference <profile.json>',
      'a reference profile (keel data profile --json) for the columns with expect.max_psi',
    )
    .action(
      async (
        file: string,
        opts: {
          schema: string;
          json?: boolean;
          strict?: boolean;
          quarantine?: string;
          html?: string;
          reference?: string;
          header?: boolean;
        },
      ) => {
        const schema = loadSchema(opts.schema);
        const reference = opts.reference ? readProfile(opts.reference) : undefined;
        // quarantined rows are written as they are found (CSV is read in chunks)
        const read = await readTable(file, schema, {
          reference,
          quarantineFile: opts.quarantine,
          header: opts.header,
        });
        const report = strictVerdict(read.report, Boolean(opts.strict));
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
    .argument(
      '<file>',
      'the data: a .csv, .tsv, .parquet, .json or .ndjson/.jsonl file, a quoted glob, a .dvc file, s3://bucket/key.csv or postgres://…?table=T',
    )
    .option('-s, --schema <schema.yaml>', 'type the columns by this schema')
    .option('--json', 'print the profile as JSON')
    .option('--bins <n>', 'histogram bins', (v) => positiveInt(v, '--bins'), 10)
    .option('--no-header', "the CSV has no header line (columns: the schema's, or column_1, column_2, …)")
    .action(
      async (file: string, opts: { schema?: string; json?: boolean; bins: number; header?: boolean }) => {
        const { frame } = await readTable(file, opts.schema ? loadSchema(opts.schema) : undefined, {
          header: opts.header,
        });
        const profile = await profileFrameParallel(frame, { bins: opts.bins });
        process.stdout.write(
          opts.json ? `${JSON.stringify(profile, null, 2)}\n` : `${formatProfile(profile, file)}\n`,
        );
      },
    );
  data
    .command('add')
    .description(
      'Snapshot a data file as a new version of a named dataset in .keel/datasets: its bytes stored by\n' +
        'sha256, with the row count, schema (given or inferred) and profile. The same bytes as the\n' +
        'latest version add nothing.',
    )
    .argument('<file>', 'the data file: .csv, .tsv, .parquet, .json, .ndjson/.jsonl (one file, not a glob)')
    .requiredOption('-n, --name <name>', 'the dataset name')
    .option('-s, --schema <schema.yaml>', 'validate and type it by this schema (default: inferred)')
    .option('--json', 'print the version as JSON')
    .action(async (file: string, opts: { name: string; schema?: string; json?: boolean }) => {
      const { version, created } = await datasets(program).add(
        file,
        opts.name,
        opts.schema ? loadSchema(opts.schema) : undefined,
      );
      const { profile: _, schema: __, ...brief } = version;
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ...brief, created })}\n`
          : `${created ? 'added' : 'unchanged'} ${short(version)}\n`,
      );
    });
  data
    .command('ls')
    .description('List dataset versions (all, or those of one name).')
    .argument('[name]', 'only this dataset')
    .option('--json', 'print JSON')
    .action((name: string | undefined, opts: { json?: boolean }) => {
      const versions = datasets(program).list(name);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(versions.map(({ profile: _, schema: __, ...v }) => v))}\n`);
        return;
      }
      const headers = ['name', 'version', 'sha256', 'rows', 'columns', 'bytes', 'file', 'added'];
      const rows = versions.map((v) => [
        v.name,
        String(v.version),
        v.sha256.slice(0, 12),
        String(v.rows),
        String(v.columns),
        String(v.bytes),
        v.file,
        v.added_at.replace('T', ' ').slice(0, 19),
      ]);
      const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd();
      process.stdout.write(
        `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`,
      );
    });
  data
    .command('diff')
    .description(
      'Compare two dataset versions (NAME, NAME@N or NAME@SHA-PREFIX): row-count delta, columns\n' +
        'added or removed, type / nullable / allowed-value changes, statistics and PSI per column.',
    )
    .argument('<a>', 'the old version')
    .argument('<b>', 'the new version')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      const d = await datasets(program).diff(a, b);
      process.stdout.write(opts.json ? `${JSON.stringify(d, null, 2)}\n` : `${formatDiff(d)}\n`);
    });
  data
    .command('push')
    .description(
      'Copy dataset versions to a remote: a directory or an S3 prefix (s3://bucket/prefix); missing\n' +
        'objects are copied with their sha256 checked, and the indexes merged.',
    )
    .argument('<remote>', 'the remote directory or s3://bucket/prefix')
    .action(async (dir: string) => {
      const r = await datasets(program).pushRemote(dir);
      process.stdout.write(`pushed ${copied(r)} to ${dir}\n`);
    });
  data
    .command('pull')
    .description(
      'Copy dataset versions from a remote: a directory or an S3 prefix (s3://bucket/prefix); missing\n' +
        'objects are copied with their sha256 checked, and the indexes merged.',
    )
    .argument('<remote>', 'the remote directory or s3://bucket/prefix')
    .action(async (dir: string) => {
      const r = await datasets(program).pullRemote(dir);
      process.stdout.write(`pulled ${copied(r)} from ${dir}\n`);
    });
  data
    .command('infer-schema')
    .description('Read a CSV and write a starting schema (types, nullability, categories) to edit by hand.')
    .argument(
      '<file>',
      'the data: a .csv, .tsv, .parquet, .json or .ndjson/.jsonl file, a quoted glob, a .dvc file, s3://bucket/key.csv or postgres://…?table=T',
    )
    .option('-o, --out <schema.yaml>', 'write the schema here instead of printing it')
    .option(
      '-t, --target <column>',
      'the target column (its classes are read from the data; the positive class is the last one)',
    )
    .option('--no-header', 'the CSV has no header line (columns: column_1, column_2, …)')
    .action(async (file: string, opts: { out?: string; target?: string; header?: boolean }) => {
      const { schema } = await readTable(file, undefined, { header: opts.header });
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

/** What a push or pull copied: "3 objects, 1 new version". */
function copied(r: { objects: number; versions: number }): string {
  return `${r.objects} object${r.objects === 1 ? '' : 's'}, ${r.versions} new version${r.versions === 1 ? '' : 's'}`;
}
