export { ErrorCodes, KeelError, exitCodeFor, isKeelError, toKeelError } from './errors.js';
export type { ErrorCode, ErrorLocation } from './errors.js';
export { sha256, sha256File } from './hash.js';
export { Rng } from './random.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
