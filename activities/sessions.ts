// The session actor's activities: thin over domain/sessions, each with its own EntityManager fork.
// They run as local activities (in the worker that runs the actor, no task-queue round trip): a
// write is a few milliseconds of database work and the client is waiting for its answer.
import { Context } from '@temporalio/activity';
import { sessionView } from '../domain/sessions/views';
import { applyStagedWrite } from '../domain/sessions/writes';
import type { SessionActivities } from '../workflows/session/contract';
import type { ActivityDeps } from '.';

export function createSessionActivities(deps: Pick<ActivityDeps, 'orm' | 'detectors'>): SessionActivities {
  return {
    async applyWriteAndAnalyse({ tenantId, writeId, sessionDbId }) {
      const detector = await deps.detectors.forTenant(tenantId);
      // One transaction: the readings and their verdict commit together, and the answer is read
      // inside it (no concurrent write can slip in between).
      const { outcome, view } = await deps.orm.em.fork().transactional(async (em) => {
        const outcome = await applyStagedWrite(em, tenantId, writeId, detector);
        if (outcome === 'gone') return { outcome, view: null };
        return { outcome, view: await sessionView(em, tenantId, sessionDbId, false) };
      });
      Context.current().log.info('session write', { writeId, outcome, status: view?.status, isAnomaly: view?.isAnomaly });
      return view;
    },
    async readSessionView({ tenantId, sessionDbId }) {
      return sessionView(deps.orm.em.fork(), tenantId, sessionDbId, false);
    },
  };
}
