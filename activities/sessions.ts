// Session actor activity: thin over domain/sessions, with its own EntityManager fork. It runs as a
// local activity (in the worker that runs the actor, no task-queue round trip): a write is a few
// milliseconds of database work and the client is waiting for its answer.
import { Context } from '@temporalio/activity';
import type { Orm } from '../db/orm';
import { analyseAndStore, type AnalysisSummary } from '../domain/sessions/analysis';
import { applyWrite } from '../domain/sessions/writes';

export function createSessionActivities(orm: Orm) {
  return {
    /** Applies a staged write (idempotent), then re-analyses the session and stores the verdict. */
    async applyWriteAndAnalyse(input: { tenantId: string; writeId: string; sessionDbId: string }): Promise<AnalysisSummary> {
      // One transaction for both (their own become part of it): the readings and their verdict
      // commit together, and a write costs one BEGIN/COMMIT pair instead of two.
      const { applied, summary } = await orm.em.fork().transactional(async (tem) => {
        const em = tem.fork({ keepTransactionContext: true, disableTransactions: true });
        const applied = await applyWrite(em, input.tenantId, input.writeId);
        return { applied, summary: await analyseAndStore(em, input.tenantId, input.sessionDbId) };
      });
      Context.current().log.info('session write applied and analysed', { writeId: input.writeId, applied: applied.applied, status: summary.status, isAnomaly: summary.isAnomaly });
      return summary;
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
