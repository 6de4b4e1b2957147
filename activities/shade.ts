// SHADE run activities: thin over domain/stations/shade-run.ts. The detector comes from the worker
// (`ActivityDeps.shade`, loaded once per process); a worker without one fails the chunk for good.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { planShadeRun, runShadeChunk } from '../domain/stations/shade-run';
import type { ShadeActivities } from '../workflows/shade/contract';
import type { ActivityDeps } from '.';

export function createShadeActivities(deps: Pick<ActivityDeps, 'orm' | 'shade'>): ShadeActivities {
  return {
    async planShadeRun({ tenantId, day, scheduledAt, chunkSize }) {
      return planShadeRun(deps.orm.em.fork(), tenantId, { day, scheduledAt, chunkSize });
    },
    async runShadeChunk(input) {
      if (!deps.shade) throw ApplicationFailure.create({ type: 'ShadeUnavailable', message: 'This worker has no SHADE detector', nonRetryable: true });
      const ctx = Context.current();
      const result = await runShadeChunk(deps.orm.em.fork(), deps.shade, input, (done) => ctx.heartbeat(done));
      ctx.log.info('shade chunk', { tenantId: input.tenantId, day: input.day, ...result });
      return result;
    },
  };
}
