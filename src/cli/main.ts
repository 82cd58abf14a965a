/**
 * The `keel` command line. Commands are thin: parse, call a module, print. Errors leave through
 * one place (`reportError`): a short message on stderr and an exit code (1 when the work failed,
 * 2 for a usage error); never a stack trace unless --log-level debug.
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, toKeelError } from '../core/errors.js';
import { registerDataCommands } from './commands/data.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerInitCommand } from './commands/init.js';
import { registerModelsCommands } from './commands/models.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerServeCommand } from './commands/serve.js';
import { registerServerCommand } from './commands/server.js';
import { registerTrainCommand } from './commands/train.js';

export function buildProgram(): Command {
  const program = new Command('keel')
    .description(
      'Keel: the ML pipeline platform for TypeScript.\n' +
        'Ingest and validate data, train and evaluate models, track runs, register versions, serve predictions.\n' +
        'Configuration comes from keel.yaml in the current directory (see `keel init`), each key overridable\n' +
        'by an environment variable KEEL_<KEY> (e.g. KEEL_STORE, KEEL_GATE_MIN_ROC_AUC).',
    )
    .version('0.1.0', '-V, --version', 'print the Keel version')
    .option(
      '-c, --config <file>',
      'configuration file (default: ./keel.yaml when present, else built-in defaults)',
    )
    .addOption(
      new Option('--log-level <level>', 'log verbosity (logs go to stderr)').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  registerInitCommand(program);
  registerDemoCommand(program);
  registerRunCommand(program);
  registerTrainCommand(program);
  registerRunsCommands(program);
  registerModelsCommands(program);
  registerDataCommands(program);
  registerServeCommand(program);
  registerServerCommand(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return (process.exitCode as number | undefined) ?? 0;
  } catch (e) {
    const code = reportError(e, argv.includes('debug') || process.env.KEEL_LOG_LEVEL === 'debug');
    process.exitCode = code;
    return code;
  }
}

/** Print an error the way a user should see it and return the exit code. */
export function reportError(e: unknown, debug = false): number {
  if (e instanceof CommanderError) {
    // commander has printed its own message (or the help) already
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return 0;
    return e.exitCode === 0 ? 0 : 2;
  }
  const err = toKeelError(e);
  const prefix = err.code === 'KEEL_E_INTERNAL' ? 'error (internal)' : 'error';
  process.stderr.write(`${prefix}: ${err.describe()}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return exitCodeFor(err);
}
