// The HTTP layer's own error type (auth, body reading, content types), and the one mapping of the
// domain's errors to statuses. The error middleware turns both (and every other failure) into a
// `{"detail": …}` body, so no handler writes an error response by hand.
import { DomainError, type DomainErrorKind, type FieldError } from '../domain/errors';

export type { FieldError };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export const unprocessable = (detail: string, errors?: FieldError[]) => new HttpError(422, detail, errors);

const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 422,
  unreadable: 400,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  busy: 429,
  unavailable: 503,
};

/** A domain error as the HTTP error it answers with (Retry-After where the domain says when). */
export function toHttpError(err: DomainError): HttpError {
  const headers = err.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(err.retryAfterSeconds) };
  return new HttpError(STATUS_OF[err.kind], err.detail, err.errors, headers);
}
