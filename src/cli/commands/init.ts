import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultConfigYaml } from '../../config/index.js';
import { KeelError } from '../../core/errors.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'Write a starting keel.yaml in the current directory (store, artifacts, quality gate, serving).',
    )
    .option('-f, --force', 'overwrite an existing keel.yaml')
    .action((opts: { force?: boolean }) => {
      const file = resolve('keel.yaml');
      if (existsSync(file) && !opts.force)
        throw new KeelError('KEEL_E_USAGE', 'keel.yaml already exists (use --force to overwrite it)', {
          file,
        });
      writeFileSync(file, defaultConfigYaml);
      process.stdout.write(
        `wrote ${file}\nnext: keel demo   (synthetic churn data -> trained, registered model)\n`,
      );
    });
}
