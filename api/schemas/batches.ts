import { config } from '../../config';
import type { BatchStatusView } from '../../domain/batches/status';
import type { FieldError } from '../../domain/errors';
import type { SessionCreateInput } from '../../domain/sessions/types';
import { iso, PaginationQuery, text, timestampOut, type Pagination } from './common';
import { meterValuesPass, presentSession, SessionCreate, SessionOut } from './sessions';
import { z } from '../zod';

/** A batch item is a create request; the older reference's `charging_point_id` names the station. */
export const BatchSessionItem = z.preprocess(
  (v) => {
    if (v && typeof v === 'object' && !('chargingStationId' in v) && 'chargingPointId' in v) {
      const { chargingPointId, ...rest } = v as Record<string, unknown>;
      return { ...rest, chargingStationId: chargingPointId };
    }
    return v;
  },
  SessionCreate,
);

// The domain takes what the schema reads as it is (no cast): its input type must stay wider.
({}) as z.infer<typeof BatchSessionItem> satisfies SessionCreateInput;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One session of a batch body (parsed JSON) as BatchSessionItem reads it, or the schema's errors
 * (locations within the session). Readings that `meterValuesPass` accepts are not run through the
 * schema again: only the session's other fields are.
 */
export function readBatchSession(value: unknown): { session: SessionCreateInput } | { errors: FieldError[] } {
  if (isObject(value) && meterValuesPass(value.meterValues)) {
    const rest = BatchSessionItem.safeParse({ ...value, meterValues: [] });
    if (rest.success) return { session: { ...rest.data, meterValues: value.meterValues } };
  }
  const result = BatchSessionItem.safeParse(value);
  if (result.success) return { session: result.data };
  return { errors: result.error.issues.map((issue) => ({ loc: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), msg: issue.message })) };
}

/** Documents the body; the route reads it as a stream and checks each session with BatchSessionItem. */
export const BatchSubmit = z
  .object({
    sessions: z
      .array(BatchSessionItem)
      .openapi({
        description:
          'The sessions, each as in POST /v1/sessions. A sessionId that appears more than once: the last occurrence wins (the earlier ones are not applied, as if only the last had been sent), and each earlier one is reported in the results with the final session and a message naming the occurrence that superseded it.',
      })
      .min(1, 'a batch needs at least one session')
      .max(config.maxBatchSessions, `at most ${config.maxBatchSessions} sessions per batch`),
  })
  .openapi('BatchSubmitRequest');

export const BatchSubmitted = z
  .object({ batchId: z.string(), totalSessions: z.number().int(), status: z.enum(['pending', 'processing', 'completed', 'failed']) })
  .openapi('BatchSubmitResponse');

export const BatchIdParams = z.object({ batch_id: text(200, 1) });

export const BatchStatusQuery = PaginationQuery;

export const BatchResult = SessionOut.extend({
  readingCount: z.number().int(),
}).openapi('BatchSessionResult');

export const BatchStatus = z
  .object({
    batchId: z.string(),
    status: z.enum(['pending', 'processing', 'completed', 'failed']),
    totalSessions: z.number().int(),
    processedSessions: z.number().int().min(0).openapi({ description: 'Items done, superseded duplicates included (once the occurrence that superseded them is done)' }),
    failedSessions: z.number().int().min(0),
    results: z.array(BatchResult).openapi({ description: 'Sessions processed so far, in submission order (paginated)' }),
    page: z.number().int(),
    pageSize: z.number().int(),
    createdAt: timestampOut(),
    completedAt: timestampOut().nullable(),
  })
  .openapi('BatchStatusResponse');

/** A batch's status and one page of its processed sessions (each as GET /v1/sessions presents it). */
export function presentBatchStatus(b: BatchStatusView, page: Pagination): z.infer<typeof BatchStatus> {
  return {
    batchId: b.id,
    status: b.status,
    totalSessions: b.totalSessions,
    processedSessions: b.processedSessions,
    failedSessions: b.failedSessions,
    results: b.results.map((r) => {
      const out = presentSession(r.session);
      return { ...out, message: r.message ?? out.message, readingCount: r.session.readingCount };
    }),
    page: page.page,
    pageSize: page.pageSize,
    createdAt: iso(b.createdAt)!,
    completedAt: iso(b.completedAt),
  };
}
