// Sessions as their readers see them (the `SessionView` of the session actor's contract): one query
// for any number of sessions, with their anomalies. The actor answers writes with it, a refresh
// re-reads it, and the GET endpoints present it.
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql, type Row } from '../../db/sql';
import { isoUtc } from '../analysis/window';
import { notFound } from '../errors';
import { sessionIsIncidentSql, sessionIsRecurringSql } from '../anomalies/flags';
import { METADATA_IN_VIEW_MAX, type AnomalyView, type SessionView } from '../../workflows/session/contract';

/** Response timestamps: UTC with Z, milliseconds only when there are some (as the reference prints them). */
const iso = (d: Date | string | null): string | null => (d == null ? null : isoUtc(new Date(d).getTime()));

function viewOf(r: Row, withMetadata: boolean): SessionView {
  const anomalies = (r.anomalies as { category: string; score: number; confidence: number; s: number; e: number; st: string; et: string }[]).map(
    (a): AnomalyView => ({
      category: a.category,
      score: a.score,
      confidence: a.confidence,
      bucketRange: { startUnit: a.s, endUnit: a.e },
      timeRange: { startTimestamp: iso(a.st), endTimestamp: iso(a.et) },
    }),
  );
  const view: SessionView = {
    sessionId: r.session_id,
    chargingStationId: r.station_id,
    connectorId: r.connector_id,
    evseId: r.evse_id,
    status: r.status,
    isAnomaly: r.is_anomaly,
    anomalyScore: r.anomaly_score,
    anomalyConfidence: r.anomaly_confidence,
    anomalyCount: r.anomaly_count,
    isIncident: r.is_incident,
    isRecurring: r.is_recurring,
    anomalies,
    analyzedAt: iso(r.analyzed_at),
    socReconstructed: r.soc_reconstructed,
    message: r.message,
    stopReason: r.stop_reason,
    clientStatus: r.client_status,
    readingCount: r.reading_count,
    createdAt: iso(r.created_at)!,
  };
  // Left out (undefined) when too large for workflow history; `withMetadata` readers always get it.
  if (withMetadata || !r.metadata_too_large) view.metadata = r.metadata;
  return view;
}

/**
 * The views of these sessions (by database id) that exist in the tenant. `withMetadata: false`
 * leaves out metadata larger than METADATA_IN_VIEW_MAX (views that go into workflow history).
 */
export async function sessionViews(em: EntityManager, tenantId: string, sessionDbIds: string[], withMetadata = true): Promise<Map<string, SessionView>> {
  if (sessionDbIds.length === 0) return new Map();
  const rows = await selectViews(em, tenantId, 's.id = any(?::uuid[])', pgArray(sessionDbIds), withMetadata);
  return new Map(rows.map((r) => [r.id as string, viewOf(r, withMetadata)]));
}

/** One session by database id (null if the tenant has none such); see `sessionViews` for `withMetadata`. */
export async function sessionView(em: EntityManager, tenantId: string, sessionDbId: string, withMetadata = true): Promise<SessionView | null> {
  return (await sessionViews(em, tenantId, [sessionDbId], withMetadata)).get(sessionDbId) ?? null;
}

/** One session of the tenant by the client's session id, with its database id; not_found if there is none. */
export async function sessionViewOf(em: EntityManager, tenantId: string, sessionId: string): Promise<{ sessionDbId: string; view: SessionView }> {
  const [row] = await selectViews(em, tenantId, 's.session_id = ?', sessionId, true);
  if (!row) throw notFound('Session');
  return { sessionDbId: row.id as string, view: viewOf(row, true) };
}

function selectViews(em: EntityManager, tenantId: string, where: string, key: string, withMetadata: boolean): Promise<Row[]> {
  return sql(
    em,
    `select s.id, s.session_id, st.station_id, s.connector_id, s.evse_id, s.status, s.is_anomaly, s.anomaly_score, s.anomaly_confidence,
            s.anomaly_count, ${sessionIsIncidentSql('s')} as is_incident, ${sessionIsRecurringSql('s')} as is_recurring, s.analyzed_at, s.soc_reconstructed, s.message, s.stop_reason,
            s.client_status, s.reading_count, s.created_at,
            case when ? or octet_length(s.metadata::text) <= ? then s.metadata end as metadata,
            not ? and octet_length(s.metadata::text) > ? as metadata_too_large,
            coalesce((select json_agg(json_build_object('category', a.category, 'score', a.score, 'confidence', a.confidence,
                        's', a.start_unit, 'e', a.end_unit, 'st', a.start_timestamp, 'et', a.end_timestamp))
                        from session_anomalies a where a.tenant_id = s.tenant_id and a.session_id = s.id), '[]'::json) as anomalies
       from charging_sessions s join charging_stations st on st.id = s.station_id
      where s.tenant_id = ? and ${where}`,
    [withMetadata, METADATA_IN_VIEW_MAX, withMetadata, METADATA_IN_VIEW_MAX, tenantId, key],
  );
}

/** The metadata of one session (for a view that left it out). */
export async function sessionMetadata(em: EntityManager, tenantId: string, sessionDbId: string): Promise<Record<string, unknown> | null> {
  const [row] = await sql(em, 'select metadata from charging_sessions where tenant_id = ? and id = ?', [tenantId, sessionDbId]);
  return (row?.metadata as Record<string, unknown> | null) ?? null;
}
