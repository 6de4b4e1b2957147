// Batch activities: thin over domain/batches, each with its own EntityManager fork.
import { Context } from '@temporalio/activity';
import { finishBatch, processChunk } from '../domain/batches/batches';
import { refreshSessionActors } from '../temporal/sessions';
import type { BatchActivities } from '../workflows/batch/contract';
import type { ActivityDeps } from '.';

export function createBatchActivities(deps: Pick<ActivityDeps, 'orm' | 'detectors' | 'temporal'>): BatchActivities {
  return {
    async processBatchChunk(input) {
      // A chunk is one transaction; the heartbeat says the worker is alive while it runs, so a
      // killed worker's chunk is handed to another worker after the heartbeat timeout.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        ctx.heartbeat();
        const detector = await deps.detectors.forTenant(input.tenantId);
        const { result, rewritten } = await processChunk(deps.orm.em.fork(), detector, input);
        ctx.log.info('batch chunk', { batchId: input.batchId, from: input.from, to: input.to, ...result, ...result.timings });
        await refreshActors(ctx, input.tenantId, rewritten);
        return result;
      } finally {
        clearInterval(beat);
      }
    },
    async finishBatch(input) {
      await finishBatch(deps.orm.em.fork(), input.tenantId, input.batchId, input.status);
    },
  };

  /**
   * Sessions the chunk rewrote may have running actors: they re-read the session so that their
   * search attributes follow. Best effort after the commit (a retried chunk finds nothing left to
   * do, so a failure here is logged rather than retried).
   */
  async function refreshActors(ctx: Context, tenantId: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    try {
      const refreshed = await refreshSessionActors(deps.temporal, tenantId, sessionIds);
      ctx.log.info('session actors refreshed', { sessions: sessionIds.length, running: refreshed });
    } catch (err) {
      ctx.log.warn('could not refresh session actors', { sessions: sessionIds.length, error: (err as Error).message });
    }
  }
}
