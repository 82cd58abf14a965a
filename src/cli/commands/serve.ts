import { type Command, Option } from 'commander';
import { KeelError } from '../../core/errors.js';
import { Model } from '../../learn/index.js';
import {
  loadFromRegistry,
  ModelHost,
  openPredictionSink,
  PredictionLog,
  startServer,
  watchRegistry,
} from '../../serve/index.js';
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
    .addOption(
      new Option(
        '--prediction-log <target>',
        'append every scored record (inputs, output, version, latency, request id) in batches to a\n' +
          'SQLite file or a postgres://…[?schema=NAME] table "predictions", off the response path',
      ).env('KEEL_PREDICTION_LOG'),
    )
    .addOption(
      new Option(
        '--api-key <key...>',
        'require one of these keys on /v1/* (Authorization: Bearer KEY or X-API-Key: KEY);\n' +
          'the variable takes a comma-separated list. /health, /ready, /metrics stay open',
      )
        .env('KEEL_SERVE_API_KEYS')
        .argParser((v: string, prev: string[] | undefined) => [
          ...(prev ?? []),
          ...v
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean),
        ]),
    )
    .addOption(
      new Option('--cors-origin <origin...>', 'allow browser calls from these origins (* for any)').env(
        'KEEL_SERVE_CORS_ORIGINS',
      ),
    )
    .addOption(
      new Option(
        '--rate-limit <max/window>',
        'at most MAX requests to /v1/* per client (API key, else IP) per window, e.g. 100/1s, 6000/1m;\n' +
          'beyond it a 429 with Retry-After',
      )
        .env('KEEL_SERVE_RATE_LIMIT')
        .argParser(parseRateLimit),
    )
    .action(
      async (opts: {
        model: string[];
        host?: string;
        port?: number;
        poll: number;
        predictionLog?: string;
        apiKey?: string[];
        corsOrigin?: string[] | string;
        rateLimit?: { max: number; windowMs: number };
      }) => {
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
        let predictionLog: PredictionLog | undefined;
        try {
          predictionLog = opts.predictionLog
            ? new PredictionLog(openPredictionSink(opts.predictionLog), { logger: ctx.logger })
            : undefined;
        } catch (e) {
          watcher?.stop();
          await ctx.close();
          throw e;
        }
        const cors =
          typeof opts.corsOrigin === 'string'
            ? opts.corsOrigin.split(',').map((o) => o.trim())
            : opts.corsOrigin;
        const server = await startServer({
          host: opts.host ?? ctx.config.serve.host,
          port: opts.port ?? ctx.config.serve.port,
          models: host,
          logger: ctx.logger,
          bodyLimit: ctx.config.serve.body_limit,
          predictionLog,
          apiKeys: opts.apiKey,
          corsOrigins: cors,
          rateLimit: opts.rateLimit,
          handleSignals: true,
          onClose: () => {
            watcher?.stop();
            return ctx.close();
          },
        });
        process.stdout.write(
          `serving ${opts.model.join(', ')} at ${server.url}  (POST ${server.url}/v1/models/<name>/predict; Ctrl-C stops)\n`,
        );
      },
    );
}

/** `100/1s`, `6000/1m`, `10/500ms` → { max, windowMs }. */
export function parseRateLimit(v: string): { max: number; windowMs: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)\s*$/.exec(v);
  const max = m ? Number(m[1]) : Number.NaN;
  const n = m ? (m[2] === '' ? 1 : Number(m[2])) : Number.NaN;
  const unit = m ? { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[3] as 'ms' | 's' | 'm' | 'h'] : 0;
  if (!m || !(max > 0) || !(n > 0))
    throw new KeelError(
      'KEEL_E_USAGE',
      `--rate-limit expects MAX/WINDOW such as 100/1s or 6000/1m, got "${v}"`,
    );
  return { max, windowMs: n * unit };
}
