/**
 * Start the tracking server: check the artifact store, open (and migrate) the store, then listen, so `GET /health` answers
 * only once the server can serve. close() stops accepting, lets requests in flight finish, then
 * closes the store; with handleSignals, SIGTERM and SIGINT do that and exit.
 */
import type { Logger } from '../core/logger.js';
import { openArtifactStore, openStore } from '../track/index.js';
import { createTrackingApp } from './app.js';
import { parseTokens, type Token } from './auth.js';

export interface TrackingServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A store URL: a SQLite path, sqlite:PATH, :memory: or postgres://… */
  store: string;
  /** The artifact store: a directory, file://DIR or s3://bucket/prefix. */
  artifacts: string;
  /** Bearer tokens; default from KEEL_SERVER_TOKENS ("name:read|write:token,…"); none = open. */
  tokens?: Token[];
  logger?: Logger;
  bodyLimit?: number;
  handleSignals?: boolean;
}

export interface RunningTrackingServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTrackingServer(options: TrackingServerOptions): Promise<RunningTrackingServer> {
  const tokens = options.tokens ?? parseTokens(process.env.KEEL_SERVER_TOKENS);
  const artifacts = openArtifactStore(options.artifacts);
  await artifacts.check?.(); // a missing bucket fails here, not at the first upload
  const store = await openStore(options.store);
  const app = createTrackingApp({
    store,
    artifacts,
    tokens,
    logger: options.logger,
    bodyLimit: options.bodyLimit,
  });
  let address: string;
  try {
    address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 5000 });
  } catch (e) {
    await store.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await store.close();
    })();
    return closing;
  };
  if (options.handleSignals) {
    const onSignal = (sig: NodeJS.Signals) => {
      options.logger?.info(`${sig}: finishing requests in flight and shutting down`);
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const port = (app.server.address() as { port: number }).port;
  return { url: address.replace('[::1]', 'localhost'), port, close };
}
