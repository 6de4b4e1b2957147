// Session actor activities: thin wrappers over domain/sessions, each with its own EntityManager fork.
import { Context } from '@temporalio/activity';
import type { Orm } from '../db/orm';
import { analyseAndStore, type AnalysisSummary } from '../domain/sessions/analysis';
import { applyWrite, type AppliedWrite } from '../domain/sessions/writes';

export function createSessionActivities(orm: Orm) {
  return {
    async applySessionWrite(input: { tenantId: string; writeId: string }): Promise<AppliedWrite> {
      const result = await applyWrite(orm.em.fork(), input.tenantId, input.writeId);
      Context.current().log.info('session write applied', { writeId: input.writeId, ...result });
      return result;
    },
    async analyseSession(input: { tenantId: string; sessionDbId: string }): Promise<AnalysisSummary> {
      return analyseAndStore(orm.em.fork(), input.tenantId, input.sessionDbId);
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
