import { isoUtc } from '../../domain/analysis/window';
import { z } from '../zod';

export const ErrorSchema = z
  .object({
    detail: z.string().openapi({ description: 'Human-readable message' }),
    errors: z
      .array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string() }))
      .optional()
      .openapi({ description: 'Field locations of validation errors (422 only)' }),
  })
  .openapi('ErrorResponse');

/**
 * Every text a request may hold: PostgreSQL text cannot store NUL (U+0000), so a NUL anywhere in a
 * request (value, object key, path or query) is a 422 naming its place. `api/route.ts` enforces it
 * for every request; the document says it on each string with this pattern.
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';

/** A request string of at most `max` characters, without NUL (documented and enforced). */
export const text = (max: number, min = 0) => (min > 0 ? z.string().min(min).max(max) : z.string().max(max)).openapi({ pattern: NO_NUL_PATTERN });

/**
 * A closed vocabulary (time zones, currencies, event types): documented as an `enum` of exactly
 * the values the server accepts, and refused otherwise with `message` (rather than zod's list of
 * every value).
 */
export const vocabulary = <const T extends readonly string[]>(values: T, message: string | ((input: unknown) => string)) =>
  z.enum(values, { error: typeof message === 'string' ? message : (issue) => message(issue.input) });

/**
 * `vocabulary` that may also be null or absent. The enum then lists null too: in OpenAPI 3.0 an
 * `enum` without null forbids null even beside `nullable: true`.
 */
export const nullableVocabulary = <const T extends readonly string[]>(values: T, message: string | ((input: unknown) => string)) =>
  vocabulary(values, message)
    .nullish()
    .openapi({ enum: [...values, null] } as never);

/** Booleans in query strings: `true`/`false` in any case (`True`, `FALSE`) or `1`/`0`; anything else is a 422. */
export const queryBoolean = z
  .string()
  .regex(/^(?:true|false|1|0)$/i, 'expected true or false (any case), 1 or 0')
  .transform((v) => v === '1' || v.toLowerCase() === 'true')
  .openapi({ type: 'boolean', description: 'true or false; True/FALSE (any case) and 1/0 are accepted too' });

/**
 * Timestamps of the responses: UTC with `Z`, as the reference prints them — whole seconds as
 * `2026-02-27T10:31:02Z`, with three fraction digits only when the instant has milliseconds
 * (`2026-02-27T10:31:02.250Z`). Every response timestamp is made by `iso`.
 */
export const TIMESTAMP_OUT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z$';
export const timestampOut = (description?: string) =>
  z.string().openapi({ format: 'date-time', pattern: TIMESTAMP_OUT_PATTERN, example: '2026-02-27T10:31:02Z', ...(description ? { description } : {}) });

export const iso = (d: Date | null | undefined): string | null => (d ? isoUtc(d.getTime()) : null);

/**
 * Request timestamps (RFC 3339 `date-time`): a UTC offset is required (`Z`, `+01:00`), so that the
 * instant is unambiguous; stored and answered in UTC.
 */
export const isoDateTime = z.iso.datetime({ offset: true, local: false }).openapi({ description: 'RFC 3339 date-time with a UTC offset (Z or ±HH:MM)' });

// Query filters take what people type: a date-time with an offset, a date-time without one, or a
// date alone; the last two are read as UTC (a date alone is its midnight).
const FILTER_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
// A real calendar date (leap days in leap years only), then a time without an offset.
const REAL_DATE =
  '(?:\\d{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)';
const LOCAL_DATE_TIME_PATTERN = `^${REAL_DATE}T(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d+)?)?$`;
/** Instants a filter is clamped to (PostgreSQL and JavaScript both hold these; no session is outside). */
const FILTER_MIN = Date.UTC(1, 0, 1) - 1;
const FILTER_MAX = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A query filter time as an ISO instant (UTC), or null when it is not one of the accepted forms or not a real date. */
export function parseFilterTime(v: string): string | null {
  const m = FILTER_TIME_RE.exec(v);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', offset = 'Z'] = m;
  const days = [31, (+y % 4 === 0 && +y % 100 !== 0) || +y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > days[+mo - 1] || +h > 23 || +mi > 59 || +s > 59) return null;
  if (offset.length > 1 && (+offset.slice(1, 3) > 23 || +offset.slice(4) > 59)) return null;
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${offset.toUpperCase()}`).getTime();
  return Number.isNaN(t) ? null : new Date(Math.min(FILTER_MAX, Math.max(FILTER_MIN + 1, t))).toISOString();
}

/** A list filter time: see `parseFilterTime` (the document lists the three forms). */
export const filterTime = (description: string) =>
  z
    .string()
    .transform((v, ctx) => {
      const t = parseFilterTime(v);
      if (t === null) {
        ctx.addIssue({ code: 'custom', message: 'expected a date (2026-02-27) or a date-time (2026-02-27T10:00:00, with or without an offset such as Z or +01:00)' });
        return z.NEVER;
      }
      return t;
    })
    .openapi({
      type: 'string',
      description: `${description}. A date-time with an offset (2026-02-27T10:00:00+01:00), without one (read as UTC) or a date alone (its midnight, UTC).`,
      anyOf: [
        { type: 'string', format: 'date-time' },
        { type: 'string', format: 'date' },
        { type: 'string', pattern: LOCAL_DATE_TIME_PATTERN },
      ],
    } as never);

export const PaginationQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).openapi({ description: '1-based page number', type: 'integer', minimum: 1, maximum: 1_000_000 }),
  pageSize: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Items per page (max 100)', type: 'integer', minimum: 1, maximum: 100 }),
});
export type Pagination = z.infer<typeof PaginationQuery>;

/** The reference's `limit`: the page size under another name (it wins over `pageSize` when both are sent). */
const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .optional()
  .openapi({ type: 'integer', minimum: 1, maximum: 100, description: 'Items per page, as `pageSize` (the reference names both; `limit` wins when both are sent)' });

/** Pagination of the lists whose reference also names `limit` (stations, anomalies). */
export const LimitedPaginationQuery = PaginationQuery.extend({ limit });

/** The page such a query asks for: `limit` wins over `pageSize`. */
export const pageOfQuery = (q: { page: number; pageSize: number; limit?: number }): Pagination => ({ page: q.page, pageSize: q.limit ?? q.pageSize });

export const PaginationMeta = z
  .object({
    totalCount: z.number().int().min(0).openapi({ description: 'Total number of items matching the query' }),
    page: z.number().int().min(1).openapi({ description: 'Current page number (1-based)' }),
    size: z.number().int().min(1).openapi({ description: 'Number of items per page' }),
  })
  .openapi('Pagination');

/** The reference's list envelope: `{content: [...], pagination: {totalCount, page, size}}`. */
export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ content: z.array(item), pagination: PaginationMeta }).openapi(name);
}

export function toPage<T>(content: T[], totalCount: number, p: Pagination) {
  return { content, pagination: { totalCount, page: p.page, size: p.pageSize } };
}
