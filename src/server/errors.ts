/**
 * MLflow's error format, in one place: every failure leaves the tracking server as
 * `{"error_code": "...", "message": "..."}` with the HTTP status MLflow gives that code.
 */
import { type ErrorCode, KeelError } from '../core/errors.js';

export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'BAD_REQUEST'
  | 'ENDPOINT_NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INTERNAL_ERROR';

export const HTTP_STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  BAD_REQUEST: 400,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  INTERNAL_ERROR: 500,
};

/** An error with MLflow's code; the status comes from HTTP_STATUS unless given. */
export class ApiError extends Error {
  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
    readonly status = HTTP_STATUS[errorCode],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const FROM_KEEL: Partial<Record<ErrorCode, MlflowErrorCode>> = {
  KEEL_E_NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  KEEL_E_USAGE: 'INVALID_PARAMETER_VALUE',
  KEEL_E_INPUT: 'INVALID_PARAMETER_VALUE',
  KEEL_E_CONFLICT: 'INVALID_PARAMETER_VALUE',
};

/** Any thrown value as an ApiError (store errors and the unexpected become INTERNAL_ERROR). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof KeelError) {
    const code = FROM_KEEL[e.code];
    if (code) return new ApiError(code, e.message);
  }
  return new ApiError('INTERNAL_ERROR', 'internal error');
}

/** Run fn, turning a KEEL_E_CONFLICT into RESOURCE_ALREADY_EXISTS (for the create calls). */
export async function alreadyExists<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KeelError && e.code === 'KEEL_E_CONFLICT')
      throw new ApiError('RESOURCE_ALREADY_EXISTS', e.message);
    throw e;
  }
}
