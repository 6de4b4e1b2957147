// Failures the domain reports about a caller's input or the system's state. Domain code throws
// these (never HTTP statuses); the API maps each kind to one status in one place
// (api/http-error.ts, `statusOf`), so every endpoint answers the same failure the same way.
export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export type DomainErrorKind =
  /** The request's content breaks a rule (422 over HTTP). */
  | 'invalid'
  /** The request cannot be read at all, e.g. malformed JSON inside a streamed body (400). */
  | 'unreadable'
  | 'not_found'
  /** Conflicts with what is stored (409). */
  | 'conflict'
  /** Larger than a configured limit (413). */
  | 'too_large'
  /** Too many at once; retry later (429). */
  | 'busy'
  /** A dependency (the workflow engine) is down; nothing was stored; retry later (503). */
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** For `busy` and `unavailable`: when a retry makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

export const invalid = (detail: string, errors?: FieldError[]) => new DomainError('invalid', detail, errors);
export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const conflict = (detail: string) => new DomainError('conflict', detail);
export const unavailable = (detail: string, retryAfterSeconds = 5) => new DomainError('unavailable', detail, undefined, retryAfterSeconds);
export const busy = (detail: string, retryAfterSeconds = 5) => new DomainError('busy', detail, undefined, retryAfterSeconds);

/** A 422 naming the first invalid field (`loc` starts with where: body, query, path), with the others listed. */
export function invalidAt(errors: FieldError[]): DomainError {
  const first = errors[0];
  return invalid(`Validation failed at ${first.loc.slice(1).join('.')}: ${first.msg}`, errors.slice(0, 100));
}
