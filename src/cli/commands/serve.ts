import type { Command } from 'commander';
import { KeelError } from '../../core/errors.js';
import { Model } from '../../learn/index.js';
import { loadFromRegistry, ModelHost, startServer, watchRegistry } from '../../serve/index.js';
import { type GlobalOptions, openContext } from '../context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve registered models over HTTP: POST /v1/models/<name>/predict (one record or a batch),\n' +
        'GET /health, GET /ready, GET /v1/models and GET /metrics (Prometheus). Requests are checked\n' +
        "against the model's input signature; bad input gets a 400 listing every field error.",
    )
    .option(
      '-m, --model <ref...>',
      'model to serve as NAME@ALIAS, NAME@VERSION or NAME (= NAME@production)',
      ['churn@production'],
    )
    .option('--host <host>', 'address to listen on (default from keel.yaml serve.host)')
    .option(
      '-p, --port <port>',
      'port to listen on (default from keel.yaml serve.port; 0 picks a free one)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new KeelError('KEEL_E_USAGE', `--port expects 0..65535, got "${v}"`);
        return n;
      },
    )
    .option(
      '--poll <seconds>',
      'how often to check the registry for moved aliases and hot-swap to the new version (0 = never)',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw new KeelError('KEEL_E_USAGE', `--poll expects seconds >= 0, got "${v}"`);
        return n;
      },
      5,
    )
    .action(async (opts: { model: string[]; host?: string; port?: number; poll: number }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      const store = await ctx.store();
      const host = new ModelHost();
      try {
        for (const ref of opts.model) {
          const entry = await loadFromRegistry(ref, {
            store,
            artifacts: ctx.artifacts(),
            fromJSON: (doc) => Model.fromJSON(doc),
          });
          host.set(entry.name, entry);
          ctx.logger.info(
            { model: entry.name, version: entry.version },
            `loaded ${ref} (version ${entry.version})`,
          );
        }
      } catch (e) {
        await ctx.close();
        throw e;
      }
      const watcher =
        opts.poll > 0
          ? watchRegistry(host, opts.model, {
              store,
              artifacts: ctx.artifacts(),
              fromJSON: (doc) => Model.fromJSON(doc),
              intervalMs: opts.poll * 1000,
              logger: ctx.logger,
            })
          : null;
      const server = await startServer({
        host: opts.host ?? ctx.config.serve.host,
        port: opts.port ?? ctx.config.serve.port,
        models: host,
        logger: ctx.logger,
        bodyLimit: ctx.config.serve.body_limit,
        handleSignals: true,
        onClose: () => {
          watcher?.stop();
          return ctx.close();
        },
      });
      process.stdout.write(
        `serving ${opts.model.join(', ')} at ${server.url}  (POST ${server.url}/v1/models/<name>/predict; Ctrl-C stops)\n`,
      );
    });
}
