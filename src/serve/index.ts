export type { AppOptions } from './app.js';
export { createApp, openApiDocument } from './app.js';
export type { RegistryWatcher, WatchOptions } from './hot-swap.js';
export { warm, watchRegistry } from './hot-swap.js';
export type { HostedModel, ModelRef } from './model-host.js';
export { loadFromRegistry, ModelHost, parseModelRef } from './model-host.js';
export type { PredictionLogOptions, PredictionRecord, PredictionSink } from './prediction-log.js';
export {
  openPredictionSink,
  PostgresPredictionSink,
  PredictionLog,
  SqlitePredictionSink,
} from './prediction-log.js';
export type { RunningServer, ServerOptions } from './server.js';
export { startServer } from './server.js';
export type { Canary, GuardOptions, GuardVerdict } from './traffic.js';
export { CanaryGuard, routePoint } from './traffic.js';
