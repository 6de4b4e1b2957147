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
  /** One tenant: the energy sweep, the rollup's compaction, the snapshot. Returns the sessions filled. */
  const refreshTenant = async (tenantId: string, at: Date, beat: () => void): Promise<number> => {
    let energyFilled = 0;
    for (let round = 0; round < ENERGY_SWEEP_MAX_ROUNDS; round++) {
      const filled = await deps.orm.em.fork().transactional((em) => fillStaleSessionEnergy(em, tenantId, ENERGY_SWEEP_CHUNK));
      energyFilled += filled;
      beat();
      if (filled < ENERGY_SWEEP_CHUNK) break;
    }
    const em = deps.orm.em.fork();
    await compactSessionDays(em, tenantId);
    await storeDataQuality(em, tenantId, await computeDataQuality(em, tenantId, at));
    return energyFilled;
  };
  return {
    async listStatisticsTenants() {
      const rows = await sql(deps.orm.em.fork(), 'select id from tenants order by id');
      return rows.map((r) => r.id as string);
    },
    async refreshTenantsStatistics({ tenantIds, at }) {
      let energyFilled = 0;
      const failed: string[] = [];
      for (const tenantId of tenantIds) {
        try {
          energyFilled += await refreshTenant(tenantId, new Date(at), () => Context.current().heartbeat({ tenantId, energyFilled }));
        } catch (err) {
          // One tenant's failure is reported, not retried with the whole chunk (the next run retries it).
          Context.current().log.warn('data quality failed', { tenantId, error: (err as Error).message });
          failed.push(tenantId);
        }
        Context.current().heartbeat({ tenantId, energyFilled });
      }
      return { energyFilled, failed };
    },
  };
}
