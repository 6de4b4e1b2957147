// Failure helpers shared by workflows. Pure: safe in workflow code.

/** The message of the innermost cause: an activity failure's own message only says an activity failed. */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
