/**
 * The typed TypeScript client of the tracking server: a TrackingStore whose every call goes to a
 * `keel server` (see track/http-store.ts, where it lives so that openStore can open http:// URLs
 * and KEEL_TRACKING_URI without track depending on server).
 */
export {
  HttpStore as TrackingClient,
  type HttpStoreOptions as TrackingClientOptions,
} from '../track/index.js';
