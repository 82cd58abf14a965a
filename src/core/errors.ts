/**
 * One error type for all of Keel. Every error carries a stable code from the catalogue below,
 * a human message, and where it happened (file, row, column, rule, step, path) when known.
 * The CLI turns errors into exit codes in one place (cli/main.ts); the HTTP servers turn them
 * into status codes in one place (serve/app.ts).
 */
export const ErrorCodes = {
  KEEL_E_USAGE: 'a command was called the wrong way',
  KEEL_E_CONFIG: 'keel.yaml or an environment override is invalid',
  KEEL_E_FILE_NOT_FOUND: 'a file does not exist',
  KEEL_E_FILE_EMPTY: 'a file has no content or no data rows',
  KEEL_E_PARSE: 'a file could not be parsed',
  KEEL_E_SCHEMA: 'a schema file is invalid',
  KEEL_E_VALIDATION: 'data broke the rules of its schema',
  KEEL_E_TARGET: 'the target column is missing or has unexpected values',
  KEEL_E_NOT_FITTED: 'an estimator or transformer was used before fit',
  KEEL_E_MODEL_FORMAT: 'a model file is invalid or of an unsupported version',
  KEEL_E_INPUT: 'input to a model does not match its signature',
  KEEL_E_NOT_FOUND: 'a run, model, version or alias does not exist',
  KEEL_E_CONFLICT: 'the operation conflicts with the current state',
  KEEL_E_GATE: 'a quality gate rejected the model',
  KEEL_E_PIPELINE: 'a pipeline definition or step failed',
  KEEL_E_STORE: 'the tracking store failed',
  KEEL_E_INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Where an error happened. Every field is optional; fill in what is known. */
export interface ErrorLocation {
  file?: string;
  row?: number;
  column?: string;
  rule?: string;
  step?: string;
  /** A path into a structured value, e.g. ['gate', 'min_roc_auc'] or [3, 'tenure']. */
  path?: (string | number)[];
}

export class KeelError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorLocation;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    where: ErrorLocation = {},
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeelError';
    this.code = code;
    this.where = where;
    this.details = options?.details;
  }

  /** A one-line location prefix such as `data.csv row 12, column "tenure"`. */
  location(): string {
    const parts: string[] = [];
    if (this.where.step) parts.push(`step "${this.where.step}"`);
    if (this.where.file) parts.push(this.where.file);
    if (this.where.row !== undefined) parts.push(`row ${this.where.row}`);
    if (this.where.column !== undefined) parts.push(`column "${this.where.column}"`);
    if (this.where.rule) parts.push(`rule ${this.where.rule}`);
    if (this.where.path && this.where.path.length > 0) parts.push(`at ${this.where.path.join('.')}`);
    return parts.join(', ');
  }

  /** `message (location)`, as the CLI prints it. */
  describe(): string {
    const loc = this.location();
    return loc && !this.message.includes(loc) ? `${this.message} (${loc})` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; where: ErrorLocation; details?: unknown } {
    return {
      code: this.code,
      message: this.message,
      where: this.where,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isKeelError(e: unknown): e is KeelError {
  return e instanceof KeelError;
}

/** Wrap anything thrown into a KeelError, keeping KeelErrors as they are. */
export function toKeelError(e: unknown, where: ErrorLocation = {}): KeelError {
  if (e instanceof KeelError) {
    if (where.step && !e.where.step)
      return new KeelError(
        e.code,
        e.message,
        { ...e.where, ...where },
        { cause: e.cause, details: e.details },
      );
    return e;
  }
  const message = e instanceof Error ? e.message : String(e);
  return new KeelError('KEEL_E_INTERNAL', message, where, { cause: e });
}

/** Exit codes of the CLI: 0 ok, 1 the work failed (bad data, failed gate, failed run), 2 usage error. */
export function exitCodeFor(e: KeelError): number {
  return e.code === 'KEEL_E_USAGE' || e.code === 'KEEL_E_CONFIG' ? 2 : 1;
}
