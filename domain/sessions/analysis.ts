// Runs the analysis pipeline over a session's stored readings and persists the verdict, so that
// GET endpoints read it from PostgreSQL.
import type { EntityManager } from '@mikro-orm/postgresql';
import { analyse } from '../analysis/analyse';
import type { AnalysisResult, StoredMeterValue } from '../analysis/types';
import type { ClientStatus } from '../../entities';

/** What the session actor keeps of an analysis (small: it goes into workflow history). */
export interface AnalysisSummary {
  status: 'pending' | 'active' | 'failed';
  isAnomaly: boolean | null;
  anomalyScore: number | null;
  anomalyCount: number;
  readingCount: number;
  clientStatus: ClientStatus | null;
  message: string | null;
}

/** Sessions with an anomaly of the same category at the same station within this window recur. */
const RECURRENCE_WINDOW_DAYS = 30;

type Row = Record<string, any>;

export async function loadReadings(em: EntityManager, tenantId: string, sessionDbId: string): Promise<StoredMeterValue[]> {
  const rows = await em.getConnection().execute<Row[]>(
    `select seq, (extract(epoch from timestamp) * 1000)::float8 as ts_ms, value, measurand, unit, phase, location, context, format, multiplier, reconstructed
       from meter_values where session_id = ? and tenant_id = ? order by seq`,
    [sessionDbId, tenantId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    timestamp: new Date(r.ts_ms).toISOString(),
    value: r.value,
    measurand: r.measurand,
    unit: r.unit,
    phase: r.phase,
    location: r.location,
    context: r.context,
    format: r.format,
    multiplier: r.multiplier,
    reconstructed: r.reconstructed,
  }));
}

export async function analyseAndStore(em: EntityManager, tenantId: string, sessionDbId: string): Promise<AnalysisSummary> {
  const [session] = await em.getConnection().execute<Row[]>(
    'select id, station_id, metadata, client_status from charging_sessions where id = ? and tenant_id = ?',
    [sessionDbId, tenantId],
  );
  if (!session) throw new Error(`session ${sessionDbId} not found for tenant ${tenantId}`);
  const readings = await loadReadings(em, tenantId, sessionDbId);
  let result: AnalysisResult | { status: 'failed'; message: string };
  try {
    result = analyse(readings, { metadata: session.metadata });
  } catch (err) {
    // A bug or data the pipeline cannot handle: report it on the session instead of retrying forever.
    result = { status: 'failed', message: `Analysis failed: ${(err as Error).message}` };
  }

  return em.transactional(async (tem) => {
    const conn = tem.getConnection();
    const trx = tem.getTransactionContext();
    await conn.execute('delete from session_anomalies where session_id = ?', [sessionDbId], 'run', trx);
    if (result.status !== 'active') {
      await conn.execute(
        `update charging_sessions set status = ?, message = ?, is_anomaly = null, anomaly_score = null, anomaly_confidence = null,
            anomaly_count = 0, is_incident = null, is_recurring = null, analyzed_at = null, quality = ?::jsonb,
            analysis_window = null, detector = null, updated_at = now()
          where id = ?`,
        [result.status, result.message, 'quality' in result ? JSON.stringify(result.quality) : null, sessionDbId],
        'run',
        trx,
      );
      return {
        status: result.status,
        isAnomaly: null,
        anomalyScore: null,
        anomalyCount: 0,
        readingCount: readings.length,
        clientStatus: session.client_status,
        message: result.message,
      };
    }
    const recurring = new Set(
      (
        await conn.execute<Row[]>(
          `select distinct a.category from session_anomalies a join charging_sessions s on s.id = a.session_id
            where s.tenant_id = ? and s.station_id = ? and s.id <> ? and s.created_at > now() - (? || ' days')::interval`,
          [tenantId, session.station_id, sessionDbId, String(RECURRENCE_WINDOW_DAYS)],
          'all',
          trx,
        )
      ).map((r) => r.category as string),
    );
    for (const a of result.anomalies) {
      await conn.execute(
        `insert into session_anomalies (id, tenant_id, session_id, category, score, confidence, start_unit, end_unit, start_timestamp, end_timestamp)
         values (gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [tenantId, sessionDbId, a.category, a.score, a.confidence, a.bucketRange.startUnit, a.bucketRange.endUnit, a.timeRange.startTimestamp, a.timeRange.endTimestamp],
        'run',
        trx,
      );
    }
    const isRecurring = result.anomalies.some((a) => recurring.has(a.category));
    await conn.execute(
      `update charging_sessions set status = 'active', message = ?, is_anomaly = ?, anomaly_score = ?, anomaly_confidence = ?,
          anomaly_count = ?, is_incident = false, is_recurring = ?, analyzed_at = now(), quality = ?::jsonb,
          analysis_window = ?::jsonb, detector = ?, updated_at = now()
        where id = ?`,
      [
        result.message,
        result.isAnomaly,
        result.anomalyScore,
        result.anomalyConfidence,
        result.anomalies.length,
        isRecurring,
        JSON.stringify(result.quality),
        JSON.stringify(result.window),
        result.detector,
        sessionDbId,
      ],
      'run',
      trx,
    );
    return {
      status: 'active' as const,
      isAnomaly: result.isAnomaly,
      anomalyScore: result.anomalyScore,
      anomalyCount: result.anomalies.length,
      readingCount: readings.length,
      clientStatus: session.client_status,
      message: result.message,
    };
  });
}
