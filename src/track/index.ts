export { DEFAULT_ARTIFACTS_ROOT, FsArtifactStore } from './artifacts.js';
export { gitCommit } from './git.js';
export { decodeNumbers, encodeNumbers, HttpStore, type HttpStoreOptions } from './http-store.js';
export { openArtifactStore, openStore } from './open.js';
export { PostgresStore, REGISTRY_CHANNEL } from './postgres-store.js';
export { formatModelDetail, formatModelsList, formatRunDetail, formatRunsList } from './render.js';
export { S3ArtifactStore } from './s3-artifacts.js';
export {
  type Comparison,
  parseEntityFilter,
  parseFilter,
  parseOrderBy,
  searchError,
} from './search-filter.js';
export { DEFAULT_STORE_PATH, SqliteStore } from './sqlite-store.js';
export type * from './types.js';
export { canNotify, hasJsonHistory } from './types.js';
