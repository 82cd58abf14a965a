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
    .option(
      '--canary <ref=percent>',
      'send PERCENT of the traffic of NAME to another version, sticky by the X-Keel-Route-Key header\n' +
        '(else per request), e.g. churn@staging=10; failed canary scorings are answered by the primary',
      parseCanary,
    )
    .option(
      '--shadow <ref>',
      'also score every request of NAME with this version after answering (logged, never returned),\n' +
        'e.g. churn@staging',
    )
    .option(
      '--rollback-error-rate <share>',
      'roll the canary back when more than this share of its recent requests failed',
      (v) => parseShare(v, '--rollback-error-rate'),
      0.05,
    )
    .option(
      '--rollback-p99-ms <ms>',
      'roll the canary back when its recent p99 scoring latency exceeds this',
      (v) => parsePositive(v, '--rollback-p99-ms'),
    )
    .option(
      '--rollback-window <requests>',
      "the canary's recent requests the rollback rules look at (judged from half of it on)",
      (v) => parsePositive(v, '--rollback-window'),
      200,
    )
    .action(
      async (opts: {
        canary?: { ref: string; weight: number };
        shadow?: string;
        rollbackErrorRate: number;
        rollbackP99Ms?: number;
        rollbackWindow: number;
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
        const deps = { store, artifacts: ctx.artifacts(), fromJSON: (doc: unknown) => Model.fromJSON(doc) };
        try {
          if (opts.canary) {
            const c = await loadFromRegistry(opts.canary.ref, deps);
            if (!host.get(c.name))
              throw new KeelError(
                'KEEL_E_USAGE',
                `--canary ${opts.canary.ref}: model ${c.name} is not served (add --model ${c.name}@…)`,
              );
            host.setCanary(c.name, c, opts.canary.weight, {
              maxErrorRate: opts.rollbackErrorRate,
              maxP99Ms: opts.rollbackP99Ms,
              window: Math.round(opts.rollbackWindow),
              minRequests: Math.max(1, Math.round(opts.rollbackWindow / 2)),
            });
            ctx.logger.info(
              `canary: ${Math.round(opts.canary.weight * 1000) / 10}% of ${c.name} to version ${c.version}`,
            );
          }
          if (opts.shadow) {
            const sh = await loadFromRegistry(opts.shadow, deps);
            if (!host.get(sh.name))
              throw new KeelError(
                'KEEL_E_USAGE',
                `--shadow ${opts.shadow}: model ${sh.name} is not served (add --model ${sh.name}@…)`,
              );
            host.setShadow(sh.name, sh);
            ctx.logger.info(`shadow: every request of ${sh.name} also scored by version ${sh.version}`);
          }
        } catch (e) {
          watcher?.stop();
          await ctx.close();
          throw e;
        }
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
          // a rolled-back canary that came through an alias loses the alias: the registry's audit log
          // then says who (keel serve), when, which version and why
          onCanaryRollback: async (name, canary, verdict) => {
            if (!canary.alias) return;
            await store.deleteAlias(name, canary.alias, {
              actor: 'keel serve (canary guard)',
              reason: `automatic rollback: ${verdict.reason}`,
            });
          },
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

/** `churn@staging=10` → the reference and a weight in (0, 1]. */
export function parseCanary(v: string): { ref: string; weight: number } {
  const m = /^(.+)=(\d+(?:\.\d+)?)%?$/.exec(v.trim());
  const pct = m ? Number(m[2]) : Number.NaN;
  if (!m || !(pct > 0 && pct <= 100))
    throw new KeelError(
      'KEEL_E_USAGE',
      `--canary expects NAME@ALIAS=PERCENT with PERCENT in (0, 100], got "${v}"`,
    );
  return { ref: m[1], weight: pct / 100 };
}

function parseShare(v: string, flag: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1))
    throw new KeelError('KEEL_E_USAGE', `${flag} expects a share in [0, 1], got "${v}"`);
  return n;
}

function parsePositive(v: string, flag: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n))
    throw new KeelError('KEEL_E_USAGE', `${flag} expects a positive number, got "${v}"`);
  return n;
}
