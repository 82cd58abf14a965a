import type { Command } from 'commander';
import { formatModelDetail, formatModelsList } from '../../track/index.js';
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
}
