import type { Logger } from '../core/logger.js';
import { scoringPool } from '../learn/index.js';
import { type AppOptions, createApp } from './app.js';
import type { ModelHost } from './model-host.js';

export interface ServerOptions {
  host: string;
  port: number;
  models: ModelHost;
  logger?: Logger;
  bodyLimit?: number;
  predictionLog?: AppOptions['predictionLog'];
  apiKeys?: AppOptions['apiKeys'];
  corsOrigins?: AppOptions['corsOrigins'];
  rateLimit?: AppOptions['rateLimit'];
  onCanaryRollback?: AppOptions['onCanaryRollback'];
  /** Close gracefully on SIGTERM and SIGINT: stop accepting, finish requests in flight, exit. */
  handleSignals?: boolean;
  onClose?: () => Promise<void> | void;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const app = createApp({
    models: options.models,
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    predictionLog: options.predictionLog,
    apiKeys: options.apiKeys,
    corsOrigins: options.corsOrigins,
    rateLimit: options.rateLimit,
    onCanaryRollback: options.onCanaryRollback,
  });
  // the first large batch should not wait for the scoring workers to start
  if (options.models.list().some((m) => m.predictor.predictFrameAsync)) scoringPool().warm();
  const address = await app.listen({ host: options.host, port: options.port });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      // requests have drained: everything they logged is queued; write it before exiting
      await options.predictionLog?.close();
      await options.onClose?.();
    })();
    return closing;
  };
  if (options.handleSignals) {
    const onSignal = (sig: NodeJS.Signals) => {
      options.logger?.info(`${sig}: draining and shutting down`);
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { url: address.replace('[::1]', 'localhost'), close };
}
