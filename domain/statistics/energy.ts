// The statistics' sweep over sessions' energy figures: each analysis stores its session's figures
// (domain/statistics/session-energy.ts, written with the verdict); this fills those that sessions
// analysed before the figures existed lack.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { loadReadingsOf } from '../sessions/analysis';
import { sessionEnergy } from './session-energy';

/**
 * Fills the energy of up to `limit` analysed sessions whose
 * figures are missing or older than their analysis (sessions analysed before the column existed,
 * or while a sweep was behind). A session re-analysed meanwhile is left for the next sweep
 * (the update checks the analysis it read). Returns how many it filled.
 */
export async function fillStaleSessionEnergy(em: EntityManager, tenantId: string, limit: number): Promise<number> {
  const stale = await sql(
    em,
    `select id, analyzed_at::text as analyzed_at from charging_sessions
      where tenant_id = ? and status = 'active' and energy_analyzed_at is distinct from analyzed_at
      limit ?`,
    [tenantId, limit],
  );
  if (stale.length === 0) return 0;
  const readings = await loadReadingsOf(em, tenantId, stale.map((r) => r.id as string));
  // analyzed_at as PostgreSQL's text (microseconds; a JS Date would drop them and never match).
  const rows = stale.map((r) => {
    const e = sessionEnergy(readings.get(r.id as string) ?? []);
    return { id: r.id as string, analyzed_at: r.analyzed_at as string, delivered: e.deliveredKwh, unbilled: e.unbilledKwh };
  });
  const updated = await sql(
    em,
    `update charging_sessions s set delivered_kwh = r.delivered, unbilled_kwh = r.unbilled, energy_analyzed_at = r.analyzed_at
       from jsonb_to_recordset(?::jsonb) as r(id uuid, analyzed_at timestamptz, delivered float8, unbilled float8)
      where s.id = r.id and s.tenant_id = ? and s.analyzed_at = r.analyzed_at
      returning s.id`,
    [JSON.stringify(rows), tenantId],
  );
  return updated.length;
}
