export { FsArtifactStore } from './artifacts.js';
export { gitCommit } from './git.js';
export { migrations } from './migrations.js';
export { openArtifactStore, openStore } from './open.js';
export { formatModelDetail, formatModelsList, formatRunDetail, formatRunsList } from './render.js';
export { SqliteStore } from './sqlite-store.js';
export type * from './types.js';
