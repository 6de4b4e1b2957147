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

/** Connection-level failures of PostgreSQL (refused, reset, the server shutting down or starting up). */
const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const DB_DOWN_MESSAGES = /Connection terminated|Knex: Timeout acquiring a connection|Client has encountered a connection error|connect ECONNREFUSED|the database system is (?:starting up|shutting down|in recovery mode)/;

/**
 * The database could not be reached (a restart, a failover): a 503 with Retry-After, not a 500 —
 * nothing of the request was committed, and the same request succeeds once it is back.
 */
export function databaseUnavailable(err: unknown): HttpError | undefined {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if ((typeof e.code === 'string' && DB_DOWN_CODES.has(e.code)) || (typeof e.message === 'string' && DB_DOWN_MESSAGES.test(e.message))) {
      return new HttpError(503, 'The database is unavailable; nothing of this request was stored. Retry shortly.', undefined, { 'Retry-After': '2' });
    }
  }
  return undefined;
}
