import type { Command } from 'commander';

/** `keel data ...`: filled in with validation and profiles by the data layer. */
export function registerDataCommands(program: Command): void {
  program.command('data').description('Work with data sets: validate a CSV against a schema, infer a schema.');
}
