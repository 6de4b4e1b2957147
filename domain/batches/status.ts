// A batch's progress and the sessions it has processed so far, for GET /v1/sessions/batch/{batch_id}.
import type { EntityManager } from '@mikro-orm/postgresql';
import { Batch, BatchItem, ChargingSession, type BatchStatus } from '../../entities';
import type { SessionView } from '../../workflows/session/contract';
import { notFound } from '../errors';
import { isUuid } from '../ids';
import { sessionViews } from '../sessions/views';

export interface BatchSessionResult {
  session: SessionView;
  /** The item's own message (why it failed), if any. */
  message: string | null;
}

export interface BatchStatusView {
  id: string;
  status: BatchStatus;
  totalSessions: number;
  processedSessions: number;
  failedSessions: number;
  createdAt: Date;
  completedAt: Date | null;
  /** The page's processed sessions, in submission order. */
  results: BatchSessionResult[];
}

/** The tenant's batch with one page of its processed sessions; `not_found` for another tenant's. */
export async function batchStatus(em: EntityManager, tenantId: string, batchId: string, page: { page: number; pageSize: number }): Promise<BatchStatusView> {
  const batch = isUuid(batchId) ? await em.findOne(Batch, { id: batchId, tenant: tenantId }) : null;
  if (!batch) throw notFound('Batch');
  const items = await em.find(
    BatchItem,
    { batch, state: { $ne: 'pending' } },
    { orderBy: { idx: 'asc' }, limit: page.pageSize, offset: (page.page - 1) * page.pageSize },
  );
  // A superseded duplicate (state `superseded`, never applied) shows the session as its last occurrence left it.
  const supersededIds = [...new Set(items.filter((i) => !i.sessionDbId && (i.state as string) === 'superseded').map((i) => i.sessionId))];
  const dbIdOf = new Map<string, string>();
  if (supersededIds.length > 0) {
    for (const s of await em.find(ChargingSession, { tenant: tenantId, sessionId: { $in: supersededIds } }, { fields: ['id', 'sessionId'] })) dbIdOf.set(s.sessionId, s.id);
  }
  const dbId = (i: BatchItem) => i.sessionDbId ?? dbIdOf.get(i.sessionId) ?? null;
  const views = await sessionViews(em, tenantId, items.flatMap((i) => dbId(i) ?? []));
  const results = items.flatMap((i) => {
    const id = dbId(i);
    const session = id ? views.get(id) : undefined;
    return session ? [{ session, message: i.message }] : [];
  });
  return {
    id: batch.id,
    status: batch.status,
    totalSessions: batch.totalSessions,
    processedSessions: batch.processedSessions,
    failedSessions: batch.failedSessions,
    createdAt: batch.createdAt,
    completedAt: batch.completedAt,
    results,
  };
}
