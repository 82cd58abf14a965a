/** What every command needs: the configuration, the stores and a logger, opened lazily. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type KeelConfig, type LoadedConfig, loadConfig, resolvePath } from '../config/index.js';
import { createLogger, type Logger, type LogLevel } from '../core/index.js';
import { type ArtifactStore, openArtifactStore, openStore, type TrackingStore } from '../track/index.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: LogLevel;
}

export interface CliContext {
  loaded: LoadedConfig;
  config: KeelConfig;
  logger: Logger;
  store(): Promise<TrackingStore>;
  artifacts(): ArtifactStore;
  /** Close what was opened. */
  close(): Promise<void>;
}

export function openContext(opts: GlobalOptions): CliContext {
  const loaded = loadConfig({ file: opts.config });
  const config = loaded.config;
  const logger = createLogger({ level: opts.logLevel ?? config.log_level });
  let store: TrackingStore | undefined;
  let artifacts: ArtifactStore | undefined;
  return {
    loaded,
    config,
    logger,
    async store() {
      if (!store) {
        const url = resolvePath(loaded, config.store);
        if (!url.includes('://') && url !== ':memory:') mkdirSync(dirname(url), { recursive: true });
        store = await openStore(url);
      }
      return store;
    },
    artifacts() {
      artifacts ??= openArtifactStore(resolvePath(loaded, config.artifacts));
      return artifacts;
    },
    async close() {
      await store?.close();
      store = undefined;
    },
  };
}
