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

/** Booleans in query strings: `true`/`false`/`1`/`0`, anything else is a 422. */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .openapi({ type: 'boolean' });

/** Timestamps in requests: ISO 8601 with any UTC offset; responses always use UTC with `Z`. */
export const isoDateTime = z.iso.datetime({ offset: true, local: false });

export const PaginationQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).openapi({ description: '1-based page number' }),
  pageSize: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Items per page (max 100)' }),
});
export type Pagination = z.infer<typeof PaginationQuery>;

export const PaginationMeta = z
  .object({
    totalCount: z.number().int().openapi({ description: 'Total number of items matching the query' }),
    page: z.number().int().openapi({ description: 'Current page number (1-based)' }),
    size: z.number().int().openapi({ description: 'Number of items per page' }),
  })
  .openapi('Pagination');

/** The reference's list envelope: `{content: [...], pagination: {totalCount, page, size}}`. */
export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ content: z.array(item), pagination: PaginationMeta }).openapi(name);
}

export function toPage<T>(content: T[], totalCount: number, p: Pagination) {
  return { content, pagination: { totalCount, page: p.page, size: p.pageSize } };
}

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
