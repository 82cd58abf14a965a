import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { KeelError } from '../../core/errors.js';
import { renderTable } from '../../core/table.js';
import {
  type AuditEntry,
  formatModelDetail,
  formatModelsList,
  type TrackingStore,
} from '../../track/index.js';
import { type GlobalOptions, openContext } from '../context.js';

export function registerModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description('The model registry: registered models, their versions and aliases.');
  models
    .command('list')
    .description('List registered models with their latest version and aliases.')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const list = await (await ctx.store()).listRegisteredModels();
        process.stdout.write(
          opts.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatModelsList(list)}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
  models
    .command('show')
    .description(
      'Show a registered model: every version with its run and aliases, and the audit log of alias moves.',
    )
    .argument('<name>', 'registered model name, e.g. churn')
    .option('--json', 'print JSON instead of tables')
    .action(async (name: string, opts: { json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        const model = await store.getRegisteredModel(name);
        const versions = await store.listModelVersions(name);
        const audit = await store.auditLog(name);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ model, versions, audit }, null, 2)}\n`
            : `${formatModelDetail(model, versions, audit)}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
  models
    .command('promote')
    .description(
      'Point an alias (production by default) at a version. The move is recorded in the audit log\n' +
        'with who (KEEL_ACTOR or your user name), when, from which version and why.',
    )
    .argument('<name>', 'registered model name, e.g. churn')
    .argument('<version>', 'the version to promote', parseVersion)
    .option('-a, --alias <alias>', 'the alias to move', 'production')
    .option('-r, --reason <text>', 'why (kept in the audit log)')
    .action(async (name: string, version: number, opts: { alias: string; reason?: string }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        await store.getModelVersion(name, version); // a clear error for an unknown version
        const before = await store.getModelVersionByAlias(name, opts.alias);
        await store.setAlias(name, opts.alias, version, { actor: actor(), reason: opts.reason ?? 'promote' });
        process.stdout.write(
          `${name}@${opts.alias}: ${before ? `version ${before.version}` : '(unset)'} -> version ${version}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
  models
    .command('rollback')
    .description(
      'Give an alias back to the version that held it before its last move (or its deletion, e.g. a\n' +
        'canary rolled back by keel serve). Recorded in the audit log like any move.',
    )
    .argument('<name>', 'registered model name, e.g. churn')
    .option('-a, --alias <alias>', 'the alias to roll back', 'production')
    .option('-r, --reason <text>', 'why (kept in the audit log)')
    .action(async (name: string, opts: { alias: string; reason?: string }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        const r = await rollback(store, name, opts.alias, { actor: actor(), reason: opts.reason });
        process.stdout.write(
          `${name}@${opts.alias}: ${r.from === null ? '(unset)' : `version ${r.from}`} -> version ${r.to} (rolled back)\n`,
        );
      } finally {
        await ctx.close();
      }
    });
  models
    .command('history')
    .description(
      'The audit log of a model: versions created, aliases set, moved and deleted, stages; oldest first.',
    )
    .argument('<name>', 'registered model name, e.g. churn')
    .option('-a, --alias <alias>', 'only the moves of this alias')
    .option('--json', 'print JSON instead of a table')
    .action(async (name: string, opts: { alias?: string; json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        await store.getRegisteredModel(name);
        const log = (await store.auditLog(name)).filter((e) => !opts.alias || e.alias === opts.alias);
        process.stdout.write(opts.json ? `${JSON.stringify(log, null, 2)}\n` : `${formatHistory(log)}\n`);
      } finally {
        await ctx.close();
      }
    });
  models
    .command('lineage')
    .description(
      'Where a version came from: its run (status, parameters, metrics), the code commit and the\n' +
        'datasets the run read (by sha256).',
    )
    .argument('<name>', 'registered model name, e.g. churn')
    .argument('<version>', 'the version', parseVersion)
    .option('--json', 'print JSON instead of text')
    .action(async (name: string, version: number, opts: { json?: boolean }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      try {
        const store = await ctx.store();
        const mv = await store.getModelVersion(name, version);
        const run = mv.runId ? await store.getRun(mv.runId) : null;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ version: mv, run }, null, 2)}\n`);
          return;
        }
        const lines = [
          `${name} version ${version}  (created ${mv.createdAt}; aliases: ${mv.aliases.join(', ') || 'none'})`,
          `  model document  sha256 ${mv.artifact.sha256}`,
        ];
        if (!run) lines.push('  run             (none recorded: registered outside a run)');
        else {
          lines.push(
            `  run             ${run.id}  ${run.status}  experiment ${run.experimentName}`,
            `  code commit     ${run.gitCommit ?? '(not in a git repository)'}`,
          );
          if (run.inputs.length === 0) lines.push('  datasets        (none recorded)');
          else
            lines.push(
              '  datasets',
              renderTable(
                ['name', 'context', 'rows', 'sha256', 'source'],
                run.inputs.map((d) => [d.name, d.context, d.rows, d.sha256.slice(0, 16), d.source]),
              )
                .split('\n')
                .map((l) => `    ${l}`)
                .join('\n'),
            );
          const metrics = Object.entries(run.metrics);
          if (metrics.length > 0)
            lines.push(
              `  metrics         ${metrics
                .slice(0, 12)
                .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
                .join('  ')}`,
            );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await ctx.close();
      }
    });
}

function parseVersion(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new KeelError('KEEL_E_USAGE', `a version is a whole number >= 1, got "${v}"`);
  return n;
}

function actor(): string {
  if (process.env.KEEL_ACTOR) return process.env.KEEL_ACTOR;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Give `alias` back to the version that held it before its last change (a move or a deletion),
 * as the audit log records it. Returns the versions it moved from and to.
 */
export async function rollback(
  store: TrackingStore,
  name: string,
  alias: string,
  opts: { actor: string; reason?: string },
): Promise<{ from: number | null; to: number }> {
  const moves = (await store.auditLog(name)).filter(
    (e) => e.alias === alias && (e.action === 'set_alias' || e.action === 'delete_alias'),
  );
  const last = moves.at(-1);
  if (!last)
    throw new KeelError(
      'KEEL_E_NOT_FOUND',
      `model ${name} has no history for alias "${alias}": nothing to roll back`,
    );
  if (last.fromVersion === null || last.fromVersion === last.toVersion)
    throw new KeelError(
      'KEEL_E_CONFLICT',
      `${name}@${alias} had no other version before its last change (${last.at}): nothing to roll back to`,
    );
  const current = await store.getModelVersionByAlias(name, alias);
  await store.setAlias(name, alias, last.fromVersion, {
    actor: opts.actor,
    reason: `rollback${opts.reason ? `: ${opts.reason}` : ''} (undoes the change of ${last.at} by ${last.actor})`,
  });
  return { from: current?.version ?? null, to: last.fromVersion };
}

function formatHistory(log: AuditEntry[]): string {
  if (log.length === 0) return '(no history)';
  const v = (n: number | null) => (n === null ? '-' : String(n));
  return renderTable(
    ['at', 'actor', 'action', 'alias', 'from', 'to', 'reason'],
    log.map((e) => [
      e.at,
      e.actor,
      e.action,
      e.alias ?? '',
      v(e.fromVersion),
      v(e.toVersion),
      e.reason ?? '',
    ]),
  );
}
