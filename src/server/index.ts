export { createTrackingApp, type TrackingAppOptions } from './app.js';
export { parseTokens, type Role, type Token } from './auth.js';
export { TrackingClient, type TrackingClientOptions } from './client.js';
export { type RunningTrackingServer, startTrackingServer, type TrackingServerOptions } from './server.js';
