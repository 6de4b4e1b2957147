// Runs the analysis pipeline over sessions' readings and persists verdicts, so that GET endpoints
// read them from PostgreSQL. One set-based writer serves the session actor (one session) and
// batch chunks (hundreds); the detector comes from the caller (the worker's detector registry).
import type { EntityManager } from '@mikro-orm/postgresql';
import { analyseMany } from '../analysis/analyse';
import type { AnalysisResult, BatchDetector, StoredMeterValue } from '../analysis/types';
import { pgArray, sql } from '../../db/sql';
import { watchSessionAnomalies } from '../webhooks/events';
import { detectionsOf, recordDetections } from '../anomalies/detections';
import { upkeepStationRollups } from '../stations/rollups';
import { sessionEnergy, type SessionEnergy } from '../statistics/session-energy';

export type Verdict = AnalysisResult | { status: 'failed'; message: string };

export interface SessionToAnalyse {
  readings: StoredMeterValue[];
  metadata: Record<string, unknown> | null;
}

/**
 * Verdicts for several sessions at once (the detector scores them together). Never throws for bad
 * data: a session the pipeline cannot handle is reported as failed, alone.
 */
export async function verdictsFor(detector: BatchDetector, sessions: SessionToAnalyse[]): Promise<Verdict[]> {
  const results = await analyseMany(
    sessions.map((s) => ({ values: s.readings, metadata: s.metadata })),
    detector,
  );
  return results.map((r) => (r instanceof Error ? { status: 'failed', message: `Analysis failed: ${r.message}` } : r));
}

/**
 * Each session's readings as one JSON text of [seq, epoch ms, value, measurand, unit, phase,
 * location, context, format, multiplier, reconstructed] rows, in arrival order: parsing one string
 * per session costs a fraction of decoding one pg row per reading (hundreds of readings per session).
 */
const READINGS_JSON = `json_agg(json_build_array(m.seq, (extract(epoch from m.timestamp) * 1000)::float8, m.value, m.measurand, m.unit,
    m.phase, m.location, m.context, m.format, m.multiplier, m.reconstructed) order by m.seq)::text`;

/** The stored readings of several sessions in one query; a session without readings is absent. */
export async function loadReadingsOf(em: EntityManager, tenantId: string, sessionDbIds: string[]): Promise<Map<string, StoredMeterValue[]>> {
  if (sessionDbIds.length === 0) return new Map();
  const rows = await sql(
    em,
    `select m.session_id, ${READINGS_JSON} as readings from meter_values m where m.session_id = any(?::uuid[]) and m.tenant_id = ? group by m.session_id`,
    [pgArray(sessionDbIds), tenantId],
  );
  return new Map(rows.map((r) => [r.session_id as string, parseReadings(r.readings as string)]));
}

function parseReadings(text: string): StoredMeterValue[] {
  const rows = JSON.parse(text) as unknown[][];
  const out: StoredMeterValue[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out[i] = {
      seq: r[0] as number,
      timestamp: new Date(r[1] as number).toISOString(),
      value: r[2] as number,
      measurand: r[3] as string | null,
      unit: r[4] as string | null,
      phase: r[5] as string | null,
      location: r[6] as string | null,
      context: r[7] as string | null,
      format: r[8] as string | null,
      multiplier: r[9] as number | null,
      reconstructed: r[10] as boolean,
    };
  }
  return out;
}

/**
 * Writes verdicts for many sessions in a handful of statements. Must run inside the transaction
 * that holds the sessions' rows, so a concurrent writer cannot slip between readings and verdict.
 */
export async function storeVerdicts(
  em: EntityManager,
  tenantId: string,
  verdicts: { sessionDbId: string; verdict: Verdict; fresh?: boolean; energy?: SessionEnergy }[],
): Promise<void> {
  if (verdicts.length === 0) return;
  // Webhooks: what the sessions showed before this verdict decides whether an event is due.
  const emitAnomalyEvents = await watchSessionAnomalies(em, tenantId, verdicts);
  // A fresh session (never analysed: just inserted, or created without readings) has no anomalies
  // to replace: a chunk of new sessions skips the delete. Callers set `fresh` only for such sessions.
  const replaced = verdicts.filter((v) => !v.fresh).map((v) => v.sessionDbId);
  if (replaced.length > 0) await sql(em, 'delete from session_anomalies where tenant_id = ? and session_id = any(?::uuid[])', [tenantId, pgArray(replaced)]);
  // Anomalies, then the issues they open or resolve.
  const anomalies = verdicts.flatMap(({ sessionDbId, verdict: v }) =>
    v.status === 'active'
      ? v.anomalies.map((a) => ({
          session_id: sessionDbId,
          category: a.category,
          score: a.score,
          confidence: a.confidence,
          start_unit: a.bucketRange.startUnit,
          end_unit: a.bucketRange.endUnit,
          start_ts: a.timeRange.startTimestamp,
          end_ts: a.timeRange.endTimestamp,
        }))
      : [],
  );
  if (anomalies.length > 0) {
    await sql(em, `insert into session_anomalies (id, tenant_id, session_id, category, score, confidence, start_unit, end_unit, start_timestamp, end_timestamp)
       select gen_random_uuid(), ?, a.session_id, a.category, a.score, a.confidence, a.start_unit, a.end_unit, a.start_ts, a.end_ts
         from jsonb_to_recordset(?::jsonb) as a(session_id uuid, category text, score float8, confidence float8,
              start_unit int, end_unit int, start_ts timestamptz, end_ts timestamptz)`,
      [tenantId, JSON.stringify(anomalies)],
    );
  }
  // The workspace's issues: only a completed analysis says which categories are (no longer) there.
  const known = verdicts.filter((v) => !v.fresh && v.verdict.status === 'active').map((v) => v.sessionDbId);
  await recordDetections(em, tenantId, detectionsOf(anomalies), known, replaced);
  const rows = verdicts.map(({ sessionDbId, verdict: v, energy }) =>
    v.status === 'active'
      ? {
          id: sessionDbId,
          status: 'active',
          message: v.message,
          is_anomaly: v.isAnomaly,
          anomaly_score: v.anomalyScore,
          anomaly_confidence: v.anomalyConfidence,
          // The references count categories, not ranges: two ENERGY_PIT ranges are one category.
          anomaly_count: new Set(v.anomalies.map((a) => a.category)).size,
          quality: v.quality,
          analysis_window: v.window,
          detector: v.detector,
          soc_reconstructed: v.soc?.socReconstructed ?? false,
          reconstructed_soc: v.soc?.socReconstructed ? v.soc.reconstructedSoc : null,
          sorc_confidence: v.soc?.sorcConfidence ?? null,
          delivered_kwh: energy?.deliveredKwh ?? null,
          unbilled_kwh: energy?.unbilledKwh ?? null,
        }
      : { id: sessionDbId, status: v.status, message: v.message, anomaly_count: 0, quality: 'quality' in v ? v.quality : null, soc_reconstructed: false },
  );
  // One write per session row. isRecurring/isIncident are not stored: session reads compute them
  // from the issues (domain/anomalies/flags.ts), since later anomalies change an earlier session's.
  await sql(em, `update charging_sessions s set status = r.status, message = r.message, is_anomaly = r.is_anomaly,
        anomaly_score = r.anomaly_score, anomaly_confidence = r.anomaly_confidence, anomaly_count = r.anomaly_count,
        analyzed_at = case when r.status = 'active' then now() end, quality = r.quality,
        analysis_window = r.analysis_window, detector = r.detector, soc_reconstructed = r.soc_reconstructed,
        reconstructed_soc = r.reconstructed_soc, sorc_confidence = r.sorc_confidence, updated_at = now(),
        delivered_kwh = r.delivered_kwh, unbilled_kwh = r.unbilled_kwh,
        energy_analyzed_at = case when r.status = 'active' and r.delivered_kwh is not null then now() end
       from jsonb_to_recordset(?::jsonb) as r(id uuid, status text, message text, is_anomaly boolean, anomaly_score float8,
            anomaly_confidence float8, anomaly_count int, quality jsonb, analysis_window jsonb, detector text,
            soc_reconstructed boolean, reconstructed_soc jsonb, sorc_confidence float8, delivered_kwh float8, unbilled_kwh float8)
      where s.id = r.id and s.tenant_id = ?`,
    [JSON.stringify(rows), tenantId],
  );
  // In this transaction: the outbox event commits with the verdict, or neither does.
  await emitAnomalyEvents?.();
}

export interface SessionToStore {
  sessionDbId: string;
  metadata: Record<string, unknown> | null;
  /** All of the session's readings, or null to load them. */
  readings: StoredMeterValue[] | null;
  /** Never analysed before (no anomalies to replace). */
  fresh: boolean;
}

/**
 * Analyses sessions whose writes were just applied and stores their verdicts, inside the caller's
 * transaction (which holds the sessions' rows). Returns each session's verdict, in order.
 */
export async function analyseAndStore(
  em: EntityManager,
  tenantId: string,
  detector: BatchDetector,
  sessions: SessionToStore[],
): Promise<{ verdicts: Verdict[]; analyseMs: number }> {
  const kept = await loadReadingsOf(em, tenantId, sessions.filter((s) => !s.readings).map((s) => s.sessionDbId));
  // The same array per session for the analysis, the energy figures and the rollups: normalised once (see normalise).
  const readingsOf = (s: SessionToStore) => s.readings ?? kept.get(s.sessionDbId) ?? [];
  const t0 = performance.now();
  const verdicts = await verdictsFor(detector, sessions.map((s) => ({ readings: readingsOf(s), metadata: s.metadata })));
  const analyseMs = performance.now() - t0;
  // The statistics' energy figures, from all of the session's readings.
  await storeVerdicts(em, tenantId, sessions.map((s, i) => ({
    sessionDbId: s.sessionDbId,
    verdict: verdicts[i],
    fresh: s.fresh,
    energy: verdicts[i].status === 'active' ? sessionEnergy(readingsOf(s)) : undefined,
  })));
  await upkeepStationRollups(em, tenantId, sessions.map((s) => ({ sessionDbId: s.sessionDbId, readings: readingsOf(s), fresh: s.fresh })));
  return { verdicts, analyseMs };
}
