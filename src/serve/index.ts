export { createApp } from './app.js';
export type { AppOptions } from './app.js';
export { loadFromRegistry, ModelHost, parseModelRef } from './model-host.js';
export type { HostedModel, ModelRef } from './model-host.js';
export { startServer } from './server.js';
export type { RunningServer, ServerOptions } from './server.js';
