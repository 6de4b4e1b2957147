// What an analysis does to the anomaly workspace's issues, set-based (a batch chunk stores hundreds
// of verdicts at once): a detected (session, category) opens an issue or refreshes it, a category
// the latest analysis no longer finds resolves its open issue "by the detector", and one found
// again on a detector-resolved issue reopens it. Every status change leaves a history row.
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql } from '../../db/sql';

/** One category found on one session by its latest analysis (several ranges merged). */
export interface Detection {
  session_id: string;
  category: string;
  score: number;
  /** The earliest start and the latest end of the category's ranges in the readings. */
  occ: string;
  occ_until: string;
}

/** The detections of anomalies as analysed: one per (session, category). */
export function detectionsOf(anomalies: { session_id: string; category: string; score: number; start_ts: string; end_ts: string }[]): Detection[] {
  const byKey = new Map<string, Detection>();
  for (const a of anomalies) {
    const key = `${a.session_id}|${a.category}`;
    const d = byKey.get(key);
    if (!d) byKey.set(key, { session_id: a.session_id, category: a.category, score: a.score, occ: a.start_ts, occ_until: a.end_ts });
    else {
      d.score = Math.max(d.score, a.score);
      if (Date.parse(a.start_ts) < Date.parse(d.occ)) d.occ = a.start_ts;
      if (Date.parse(a.end_ts) > Date.parse(d.occ_until)) d.occ_until = a.end_ts;
    }
  }
  return [...byKey.values()];
}

/**
 * Applies an analysis round to the issues, inside the verdicts' transaction. `known`: the
 * sessions whose analysis completed and that may have issues already (not fresh; a failed or
 * pending analysis says nothing about categories, so it leaves their issues alone); `moved`: every
 * non-fresh session of the round, whose issues follow its station/connector.
 */
export async function recordDetections(
  em: EntityManager,
  tenantId: string,
  detections: Detection[],
  known: string[],
  moved: string[],
): Promise<void> {
  const found = JSON.stringify(detections);
  if (moved.length > 0) {
    // An issue shows where its session is now (a create naming another station moves the session).
    await sql(
      em,
      `update anomaly_issues i set station_id = s.station_id, connector_id = s.connector_id, evse_id = s.evse_id
         from charging_sessions s
        where i.tenant_id = ? and i.session_id = any(?::uuid[]) and s.id = i.session_id
          and (i.station_id, i.connector_id, i.evse_id) is distinct from (s.station_id, s.connector_id, s.evse_id)`,
      [tenantId, pgArray(moved)],
    );
  }
  if (known.length > 0) {
    // Resolve what is no longer found, reopen what the detector had resolved and is found again.
    // The two updates touch disjoint rows (found vs. not found), so one statement holds both.
    await sql(
      em,
      `with found as (select * from jsonb_to_recordset(?::jsonb) as f(session_id uuid, category text)),
            prior as (select i.id, i.status from anomaly_issues i where i.tenant_id = ? and i.session_id = any(?::uuid[])),
            resolved as (
              update anomaly_issues i set status = 'RESOLVED', resolved_by = 'detector', updated_at = now()
                from prior p
               where i.id = p.id and i.status in ('OPEN', 'IN_PROGRESS')
                 and not exists (select 1 from found f where f.session_id = i.session_id and f.category = i.category)
              returning i.id, p.status as from_status, 'RESOLVED' as to_status),
            reopened as (
              update anomaly_issues i set status = 'OPEN', resolved_by = null, updated_at = now()
                from found f
               where i.tenant_id = ? and i.session_id = f.session_id and i.category = f.category
                 and i.status = 'RESOLVED' and i.resolved_by = 'detector'
              returning i.id, 'RESOLVED' as from_status, 'OPEN' as to_status)
       insert into anomaly_issue_events (id, tenant_id, issue_id, actor, field, from_value, to_value, at)
       select gen_random_uuid(), ?, c.id, 'detector', 'status', c.from_status, c.to_status, now()
         from (select * from resolved union all select * from reopened) c`,
      [found, tenantId, pgArray(known), tenantId, tenantId],
    );
  }
  if (detections.length > 0) await openOrRefresh(em, tenantId, found);
  // Sessions whose issues changed (detected again, resolved or reopened): their rollup follows.
  const touched = [...new Set([...detections.map((d) => d.session_id), ...known])];
  if (touched.length > 0) await refreshSessionRollups(em, tenantId, touched);
}

/**
 * Recomputes the per-session rollup (anomaly_session_rollups) of these sessions from their issues.
 * Sessions never lose issues, so a session with issues always has its row. Callers hold the
 * sessions' rows: for update (an analysis, which alone adds issues and changes scores, categories
 * and occurrences) or for share (a member's change, which changes status and assignee only).
 */
export async function refreshSessionRollups(em: EntityManager, tenantId: string, sessionDbIds: string[]): Promise<void> {
  await sql(
    em,
    `insert into anomaly_session_rollups (session_id, tenant_id, issue_count, max_score, first_occurred_at, last_update_at, categories)
     select i.session_id, i.tenant_id, count(*)::int, max(i.max_score), min(i.occurred_at), max(i.updated_at), array_agg(i.category order by i.category)
       from anomaly_issues i where i.tenant_id = ? and i.session_id = any(?::uuid[]) group by i.session_id, i.tenant_id
     on conflict (session_id) do update set
        issue_count = excluded.issue_count, max_score = excluded.max_score, categories = excluded.categories,
        first_occurred_at = excluded.first_occurred_at,
        -- Two members' changes to one session's issues may run at once (both hold a share lock),
        -- each refreshing from a snapshot without the other's: keep the later update.
        last_update_at = greatest(anomaly_session_rollups.last_update_at, excluded.last_update_at)`,
    [tenantId, pgArray(sessionDbIds)],
  );
}

async function openOrRefresh(em: EntityManager, tenantId: string, found: string): Promise<void> {
  // Open new issues (history: opened by the detector), refresh existing ones: the highest score
  // seen, the last detection, where in the readings the category occurred now.
  await sql(
    em,
    `with d as (select * from jsonb_to_recordset(?::jsonb) as d(session_id uuid, category text, score float8, occ timestamptz, occ_until timestamptz)),
          up as (
            insert into anomaly_issues (id, tenant_id, session_id, category, status, max_score, first_detected_at, last_detected_at,
                                        station_id, connector_id, evse_id, occurred_at, occurred_until, created_at, updated_at)
            select gen_random_uuid(), s.tenant_id, d.session_id, d.category, 'OPEN', d.score, now(), now(),
                   s.station_id, s.connector_id, s.evse_id, d.occ, d.occ_until, now(), now()
              from d join charging_sessions s on s.id = d.session_id and s.tenant_id = ?
            on conflict (session_id, category) do update
               set max_score = greatest(anomaly_issues.max_score, excluded.max_score), last_detected_at = excluded.last_detected_at,
                   occurred_at = excluded.occurred_at, occurred_until = excluded.occurred_until, updated_at = excluded.updated_at
            returning id, xmax = 0 as inserted)
     insert into anomaly_issue_events (id, tenant_id, issue_id, actor, field, from_value, to_value, at)
     select gen_random_uuid(), ?, up.id, 'detector', 'status', null, 'OPEN', now() from up where up.inserted`,
    [found, tenantId, tenantId],
  );
}
