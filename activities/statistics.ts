// Statistics activities: thin over domain/statistics/ (the energy sweep, the rollup's compaction and
// the data-quality snapshot).
import { Context } from '@temporalio/activity';
import { sql } from '../db/sql';
import { computeDataQuality, storeDataQuality } from '../domain/statistics/data-quality';
import { fillStaleSessionEnergy } from '../domain/statistics/energy';
import { compactSessionDays } from '../domain/statistics/rollups';
import type { StatisticsActivities } from '../workflows/data-quality/contract';
import type { ActivityDeps } from '.';

/** Sessions per energy-sweep transaction, and at most this many rounds per run (the next run goes on). */
const ENERGY_SWEEP_CHUNK = 500;
const ENERGY_SWEEP_MAX_ROUNDS = 40;

export function createStatisticsActivities(deps: Pick<ActivityDeps, 'orm'>): StatisticsActivities {
  return {
    async listStatisticsTenants() {
      const rows = await sql(deps.orm.em.fork(), 'select id from tenants order by id');
      return rows.map((r) => r.id as string);
    },
    async refreshTenantStatistics({ tenantId, at }) {
      let energyFilled = 0;
      for (let round = 0; round < ENERGY_SWEEP_MAX_ROUNDS; round++) {
        const filled = await deps.orm.em.fork().transactional((em) => fillStaleSessionEnergy(em, tenantId, ENERGY_SWEEP_CHUNK));
        energyFilled += filled;
        Context.current().heartbeat(energyFilled);
        if (filled < ENERGY_SWEEP_CHUNK) break;
      }
      const em = deps.orm.em.fork();
      await compactSessionDays(em, tenantId);
      const snapshot = await computeDataQuality(em, tenantId, new Date(at));
      await storeDataQuality(em, tenantId, snapshot);
      Context.current().log.info('data quality stored', { tenantId, at, energyFilled });
      return { energyFilled, sessions: snapshot.ranges.all?.totalSessions ?? 0 };
    },
  };
}
