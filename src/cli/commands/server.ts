import type { Command } from 'commander';
import { resolvePath } from '../../config/index.js';
import { KeelError } from '../../core/errors.js';
import { startTrackingServer } from '../../server/index.js';
import { type GlobalOptions, openContext } from '../context.js';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      "The tracking server: MLflow's REST API 2.0 (experiments, runs, metrics, params, tags, registry,\n" +
        'aliases, stages) over the tracking store, artifact upload/download/list, GET /health once ready,\n' +
        'GET /openapi.json. MLflow clients point MLFLOW_TRACKING_URI at it. Bearer tokens from\n' +
        'KEEL_SERVER_TOKENS="name:read|write:token,..." (none = open). SIGTERM finishes requests in flight.',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '-p, --port <port>',
      'port to listen on (0 picks a free one)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new KeelError('KEEL_E_USAGE', `--port expects 0..65535, got "${v}"`);
        return n;
      },
      5000,
    )
    .option('--store <url>', 'tracking store: a SQLite path or postgres://… (default from keel.yaml store)')
    .option(
      '--artifacts <url>',
      'artifact store: a directory or s3://bucket/prefix (endpoint from KEEL_S3_ENDPOINT; default from keel.yaml artifacts)',
    )
    .action(async (opts: { host: string; port: number; store?: string; artifacts?: string }) => {
      const ctx = openContext(program.opts<GlobalOptions>());
      const server = await startTrackingServer({
        host: opts.host,
        port: opts.port,
        store: opts.store ?? resolvePath(ctx.loaded, ctx.config.store),
        artifacts: opts.artifacts ?? resolvePath(ctx.loaded, ctx.config.artifacts),
        logger: ctx.logger,
        handleSignals: true,
      });
      ctx.logger.info({ url: server.url }, `tracking server listening on ${server.url}`);
      process.stderr.write(`keel tracking server on ${server.url} (MLFLOW_TRACKING_URI=${server.url})\n`);
    });
}
