import { config } from '../../config';
import { PaginationQuery } from './common';
import { SessionCreate, SessionOut } from './sessions';
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

/** Documents the body; the route reads it as a stream and checks each session with BatchSessionItem. */
export const BatchSubmit = z
  .object({
    sessions: z
      .array(BatchSessionItem)
      .min(1, 'a batch needs at least one session')
      .max(config.maxBatchSessions, `at most ${config.maxBatchSessions} sessions per batch`),
  })
  .openapi('BatchSubmitRequest');

export const BatchSubmitted = z
  .object({ batchId: z.string(), totalSessions: z.number().int(), status: z.enum(['pending', 'processing', 'completed', 'failed']) })
  .openapi('BatchSubmitResponse');

export const BatchIdParams = z.object({ batch_id: z.string() });

export const BatchStatusQuery = PaginationQuery;

export const BatchResult = SessionOut.extend({
  readingCount: z.number().int(),
}).openapi('BatchSessionResult');

export const BatchStatus = z
  .object({
    batchId: z.string(),
    status: z.enum(['pending', 'processing', 'completed', 'failed']),
    totalSessions: z.number().int(),
    processedSessions: z.number().int(),
    failedSessions: z.number().int(),
    results: z.array(BatchResult).openapi({ description: 'Sessions processed so far, in submission order (paginated)' }),
    page: z.number().int(),
    pageSize: z.number().int(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('BatchStatusResponse');
