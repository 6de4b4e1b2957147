// Rebuilds a tenant's station rollups from the stored readings: for sessions analysed before the
// rollups existed, or under an older rule (until 2026-12 a pit's recovery counted as new energy).
// Operators run it from the CLI (`npm run cli -- station-rollups-rebuild <tenant id>`).
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { loadReadingsOf } from '../sessions/analysis';
import { upkeepStationRollups } from './rollups';

/**
 * A chunk of sessions per transaction, in id order. Each chunk first locks its session rows, so a
 * live write of one of them (which updates the row before its own upkeep) waits for the chunk or is
 * waited for, and the readings are read under the lock. Returns how many sessions were rebuilt.
 */
export async function rebuildStationRollups(
  em: EntityManager,
  tenantId: string,
  opts: { chunk?: number; onChunk?: (done: number) => void } = {},
): Promise<number> {
  const chunk = opts.chunk ?? 200;
  let after = '00000000-0000-0000-0000-000000000000';
  let done = 0;
  for (;;) {
    const ids = await em.fork().transactional(async (tem) => {
      const rows = await sql(tem, 'select id from charging_sessions where tenant_id = ? and id > ? order by id limit ? for update', [tenantId, after, chunk]);
      const ids = rows.map((r) => r.id as string);
      if (ids.length === 0) return ids;
      const readings = await loadReadingsOf(tem, tenantId, ids);
      // Not fresh: each session's previous rollup (if any) is taken out before the new one goes in.
      await upkeepStationRollups(tem, tenantId, ids.map((id) => ({ sessionDbId: id, readings: readings.get(id) ?? [], fresh: false })));
      return ids;
    });
    if (ids.length === 0) return done;
    done += ids.length;
    after = ids[ids.length - 1];
    opts.onChunk?.(done);
  }
}
