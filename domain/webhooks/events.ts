// Webhook events and the outbox. An event is written to `webhook_events` in the transaction of the
// change that caused it (a verdict, a finished batch), so a crash after the commit loses nothing:
// the dispatcher (dispatcher.ts) fans every stored event out into deliveries. Events are written
// only when an enabled endpoint of the tenant subscribes to their type (no endpoint, no cost beyond
// one indexed lookup, and none at all for verdicts without anomalies).
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql } from '../../db/sql';
import type { AnalysisResult } from '../analysis/types';

export const EVENT_TYPES = ['session.anomaly_detected', 'station.anomaly_detected', 'batch.completed', 'webhook.test'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The dispatcher LISTENs here; every transaction that writes events NOTIFYs it on commit. */
export const OUTBOX_CHANNEL = 'evni_webhook_outbox';

/**
 * The body a receiver gets: `event` first, then the event's fields, then `webhook_id` (the
 * delivery's id, also the `webhook-id` header), as the reference's example has them. Built from
 * the stored text, so every attempt of a delivery sends the same bytes.
 */
export function deliveryBody(type: string, payload: string, deliveryId: string): string {
  const fields = payload.trim().slice(1, -1).trim();
  return `{"event":${JSON.stringify(type)},${fields ? `${fields},` : ''}"webhook_id":${JSON.stringify(deliveryId)}}`;
}

/** Does an enabled endpoint of the tenant subscribe to this event type? */
export async function hasSubscribers(em: EntityManager, tenantId: string, type: EventType): Promise<boolean> {
  const rows = await sql(em, 'select 1 from webhook_endpoints where tenant_id = ? and enabled and jsonb_exists(events, ?) limit 1', [tenantId, type]);
  return rows.length > 0;
}

/**
 * Writes events into the outbox in the caller's transaction (and wakes the dispatcher on commit).
 * `endpointId`: for one endpoint only (test events), whatever it subscribes to.
 */
export async function writeEvents(em: EntityManager, tenantId: string, type: EventType, payloads: object[], endpointId: string | null = null): Promise<string[]> {
  if (payloads.length === 0) return [];
  const rows = await sql(
    em,
    `insert into webhook_events (id, tenant_id, type, payload, endpoint, created_at)
     select gen_random_uuid(), ?, ?, p.value, ?::uuid, clock_timestamp() from jsonb_array_elements_text(?::jsonb) with ordinality as p(value, n) order by p.n
     returning id`,
    [tenantId, type, endpointId, JSON.stringify(payloads.map((p) => JSON.stringify(p)))],
  );
  await sql(em, 'select pg_notify(?, ?)', [OUTBOX_CHANNEL, '']);
  return rows.map((r) => r.id as string);
}

type Verdict = AnalysisResult | { status: 'failed'; message: string };
type Anomalous = Extract<AnalysisResult, { status: 'active' }>;
const anomalous = (v: Verdict): v is Anomalous => v.status === 'active' && v.isAnomaly;
const categoriesOf = (v: Anomalous) => [...new Set(v.anomalies.map((a) => a.category as string))].sort();

/**
 * `session.anomaly_detected`, once per change that matters: call before the verdicts replace the
 * stored ones (it reads what the sessions showed), and call the function it returns after they are
 * stored, in the same transaction. An event is written when a session's verdict turns anomalous,
 * or stays anomalous and gains a category; a re-analysis with the same findings writes none.
 * Returns null (and reads nothing) when no verdict is anomalous or nobody subscribes.
 */
export async function watchSessionAnomalies(
  em: EntityManager,
  tenantId: string,
  verdicts: { sessionDbId: string; verdict: Verdict; fresh?: boolean }[],
): Promise<(() => Promise<void>) | null> {
  const candidates = verdicts.filter((v) => anomalous(v.verdict));
  if (candidates.length === 0 || !(await hasSubscribers(em, tenantId, 'session.anomaly_detected'))) return null;
  const known = candidates.filter((c) => !c.fresh).map((c) => c.sessionDbId);
  const before = new Map<string, { isAnomaly: boolean; categories: string[] }>();
  if (known.length > 0) {
    const rows = await sql(
      em,
      `select s.id, coalesce(s.is_anomaly, false) as is_anomaly,
              coalesce((select array_agg(distinct a.category) from session_anomalies a where a.session_id = s.id and a.tenant_id = s.tenant_id), '{}') as categories
         from charging_sessions s where s.tenant_id = ? and s.id = any(?::uuid[])`,
      [tenantId, pgArray(known)],
    );
    for (const r of rows) before.set(r.id as string, { isAnomaly: r.is_anomaly as boolean, categories: r.categories as string[] });
  }
  const changed = candidates.flatMap(({ sessionDbId, verdict }) => {
    const v = verdict as Anomalous;
    const prev = before.get(sessionDbId) ?? { isAnomaly: false, categories: [] };
    const categories = categoriesOf(v);
    const added = categories.filter((c) => !prev.categories.includes(c));
    return !prev.isAnomaly || added.length > 0 ? [{ sessionDbId, v, categories, added }] : [];
  });
  if (changed.length === 0) return null;
  return async () => {
    const rows = await sql(
      em,
      `select s.id, s.session_id, st.station_id, s.connector_id, s.evse_id, s.analyzed_at
         from charging_sessions s join charging_stations st on st.id = s.station_id
        where s.tenant_id = ? and s.id = any(?::uuid[])`,
      [tenantId, pgArray(changed.map((c) => c.sessionDbId))],
    );
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    const payloads = changed.flatMap(({ sessionDbId, v, categories, added }) => {
      const s = byId.get(sessionDbId);
      if (!s) return [];
      return [
        {
          session_id: s.session_id,
          charging_station_id: s.station_id,
          connector_id: s.connector_id,
          evse_id: s.evse_id,
          is_anomaly: true,
          anomaly_score: v.anomalyScore,
          anomaly_confidence: v.anomalyConfidence,
          categories,
          new_categories: added,
          anomalies: v.anomalies.map((a) => ({ category: a.category, score: a.score, confidence: a.confidence, time_range: { start_timestamp: a.timeRange.startTimestamp, end_timestamp: a.timeRange.endTimestamp } })),
          analyzed_at: (s.analyzed_at ? new Date(s.analyzed_at as string) : new Date()).toISOString(),
        },
      ];
    });
    await writeEvents(em, tenantId, 'session.anomaly_detected', payloads);
  };
}

/**
 * `batch.completed` when a batch finishes (status `completed` or `failed`), in the transaction
 * that finishes it; only the first finish of a batch writes it.
 */
export async function batchCompletedEvent(em: EntityManager, tenantId: string, batchId: string, firstFinish: boolean): Promise<void> {
  if (!firstFinish || !(await hasSubscribers(em, tenantId, 'batch.completed'))) return;
  const [b] = await sql(
    em,
    `select b.id, b.status, b.total_sessions, b.processed_sessions, b.failed_sessions, b.created_at, b.completed_at,
            (select count(*)::int from batch_items i join charging_sessions s on s.id = i.session_db_id
              where i.batch_id = b.id and i.tenant_id = b.tenant_id and s.is_anomaly) as anomalous_sessions
       from batches b where b.id = ? and b.tenant_id = ?`,
    [batchId, tenantId],
  );
  if (!b) return;
  await writeEvents(em, tenantId, 'batch.completed', [
    {
      batch_id: b.id,
      status: b.status,
      total_sessions: b.total_sessions,
      processed_sessions: b.processed_sessions,
      failed_sessions: b.failed_sessions,
      anomalous_sessions: b.anomalous_sessions,
      created_at: new Date(b.created_at).toISOString(),
      completed_at: b.completed_at ? new Date(b.completed_at).toISOString() : null,
    },
  ]);
}

/**
 * `station.anomaly_detected`, the reference's payload (`charging_station_id`, `is_anomaly`,
 * `anomaly_score`, `detection_details`, `analyzed_at`; `event` and `webhook_id` are added per
 * delivery). Written by SHADE runs (domain/stations/shade-run.ts) in the transaction that stores a
 * station-day result that is anomalous and was not stored as anomalous before (a re-run of the
 * same day sends no second event).
 */
export async function stationAnomalyEvents(
  em: EntityManager,
  tenantId: string,
  events: { chargingStationId: string; anomalyScore: number; detectionDetails: Record<string, unknown>; analyzedAt: Date }[],
): Promise<void> {
  if (events.length === 0 || !(await hasSubscribers(em, tenantId, 'station.anomaly_detected'))) return;
  await writeEvents(
    em,
    tenantId,
    'station.anomaly_detected',
    events.map((e) => ({ charging_station_id: e.chargingStationId, is_anomaly: true, anomaly_score: e.anomalyScore, detection_details: e.detectionDetails, analyzed_at: e.analyzedAt.toISOString() })),
  );
}
