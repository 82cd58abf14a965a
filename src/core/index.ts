export type { ErrorCode, ErrorLocation } from './errors.js';
export { ErrorCodes, exitCodeFor, isKeelError, KeelError, toKeelError } from './errors.js';
export { sha256, sha256File } from './hash.js';
export type { Logger, LogLevel } from './logger.js';
export { createLogger, silentLogger } from './logger.js';
export { Rng } from './random.js';
export { isS3Url, parseS3Url, type S3Location, type S3Options, s3Client, s3Key } from './s3.js';
