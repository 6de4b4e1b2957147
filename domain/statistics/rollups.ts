// The daily session rollup (`statistics_session_days`): triggers on charging_sessions append one
// delta row per statement and UTC day (Migration20261208105000), so writers never wait on each
// other's rollup rows; the scheduled data-quality run folds a tenant's deltas into one row per day.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';

/**
 * Replaces the tenant's delta rows with one row per day, in one statement: rows that concurrent
 * writers add meanwhile are not visible to it and stay as deltas. Days that net to nothing go.
 * Returns how many rows were folded.
 */
export async function compactSessionDays(em: EntityManager, tenantId: string): Promise<number> {
  const [row] = await sql(
    em,
    `with gone as (delete from statistics_session_days where tenant_id = ? returning *),
          kept as (insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
                   select tenant_id, day, sum(sessions), sum(anomalous), sum(delivered_kwh) from gone group by tenant_id, day
                   having sum(sessions) <> 0 or sum(anomalous) <> 0 or abs(sum(delivered_kwh)) > 1e-9
                   returning 1)
     select (select count(*) from gone)::int as folded`,
    [tenantId],
  );
  return Number(row?.folded ?? 0);
}
