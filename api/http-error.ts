// The one error type handlers throw. The error middleware turns it (and every other failure) into
// a `{"detail": …}` body, so no handler writes an error response by hand.
export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

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

export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const unprocessable = (detail: string, errors?: FieldError[]) => new HttpError(422, detail, errors);
