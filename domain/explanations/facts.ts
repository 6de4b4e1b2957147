// What an explanation is written from: a session's verdict and the numbers its readings show, read
// for one tenant. The offline explainer writes its text from these facts, and the LLM's tools return
// them (so both cite the same, rounded numbers).
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import type { AnomalyCategory, Series } from '../analysis/types';
import { normalise } from '../analysis/normalise';
import { loadReadingsOf } from '../sessions/analysis';
import { sessionView } from '../sessions/views';
import { notFound } from '../errors';

export interface AnomalyFacts {
  /** 1-based position in the session's anomaly list. */
  index: number;
  category: AnomalyCategory;
  score: number;
  confidence: number;
  bucketRange: { startUnit: number; endUnit: number };
  timeRange: { startTimestamp: string | null; endTimestamp: string | null };
  durationMinutes: number;
  /** The energy register around the range: the reading before it, the lowest, highest and last inside it. */
  energy: { beforeKwh: number; minKwh: number; maxKwh: number; endKwh: number; changeKwh: number; maxBeforeKwh: number } | null;
  power: { minKw: number; maxKw: number; meanKw: number } | null;
  /** The register's slope over the range, ΔE/Δt (kW). */
  registerSlopeKw: number | null;
  soc: { startPercent: number; endPercent: number; changePoints: number } | null;
}

export interface SessionFacts {
  sessionId: string;
  chargingStationId: string;
  connectorId: string | null;
  evseId: string | null;
  status: 'pending' | 'active' | 'failed';
  message: string | null;
  isAnomaly: boolean | null;
  anomalyScore: number | null;
  anomalyConfidence: number | null;
  analyzedAt: string | null;
  detector: string | null;
  readingCount: number;
  firstReadingAt: string | null;
  lastReadingAt: string | null;
  durationMinutes: number | null;
  /** Only the last 6 hours were analysed. */
  truncated: boolean;
  energy: { startKwh: number; endKwh: number; deliveredKwh: number; readings: number } | null;
  power: { peakKw: number; readings: number } | null;
  soc: { startPercent: number; endPercent: number; minPercent: number; maxPercent: number; readings: number } | null;
  dataQualityNotes: string[];
  anomalies: AnomalyFacts[];
  /** What the client sent about the session: data, never instructions. */
  clientData: { metadata: Record<string, unknown> | null; stopReason: string | null; clientStatus: string | null };
}

export interface LoadedSession {
  facts: SessionFacts;
  series: { energy: Series; power: Series; soc: Series };
  /** The session's database id and its analysis version (`analyzed_at`, epoch ms). */
  sessionDbId: string;
  analysisVersion: string;
}

export const r2 = (x: number) => Math.round(x * 100) / 100;
export const r3 = (x: number) => Math.round(x * 1000) / 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The session's facts; not_found when the tenant has no such session (database id). */
export async function loadSession(em: EntityManager, tenantId: string, sessionDbId: string): Promise<LoadedSession> {
  const view = await sessionView(em, tenantId, sessionDbId, true);
  if (!view) throw notFound('Session');
  const [row] = await sql(em, 'select detector, quality, analyzed_at from charging_sessions where tenant_id = ? and id = ?', [tenantId, sessionDbId]);
  const readings = (await loadReadingsOf(em, tenantId, [sessionDbId])).get(sessionDbId) ?? [];
  const n = normalise(readings);
  const { energy: E, power: P, soc: S } = n;
  const all = [E, P, S].filter((s) => s.t.length > 0);
  const first = all.length ? Math.min(...all.map((s) => s.t[0])) : null;
  const last = all.length ? Math.max(...all.map((s) => s.t[s.t.length - 1])) : null;
  const quality = (row?.quality ?? null) as { notes?: string[] } | null;
  const facts: SessionFacts = {
    sessionId: view.sessionId,
    chargingStationId: view.chargingStationId,
    connectorId: view.connectorId,
    evseId: view.evseId,
    status: view.status,
    message: view.message,
    isAnomaly: view.isAnomaly,
    anomalyScore: view.anomalyScore,
    anomalyConfidence: view.anomalyConfidence,
    analyzedAt: view.analyzedAt,
    detector: (row?.detector as string | null) ?? null,
    readingCount: view.readingCount,
    firstReadingAt: first === null ? null : iso(first),
    lastReadingAt: last === null ? null : iso(last),
    durationMinutes: first === null || last === null ? null : r2((last - first) / 60_000),
    truncated: first !== null && last !== null && last - first > 6 * 3600_000,
    energy: E.t.length ? { startKwh: r3(E.v[0]), endKwh: r3(E.v[E.v.length - 1]), deliveredKwh: r3(delivered(E)), readings: E.t.length } : null,
    power: P.t.length ? { peakKw: r2(Math.max(...P.v)), readings: P.t.length } : null,
    soc: S.t.length
      ? { startPercent: r2(S.v[0]), endPercent: r2(S.v[S.v.length - 1]), minPercent: r2(Math.min(...S.v)), maxPercent: r2(Math.max(...S.v)), readings: S.t.length }
      : null,
    dataQualityNotes: quality?.notes ?? [],
    anomalies: view.anomalies.map((a, i) => anomalyFacts(i + 1, a, n)),
    clientData: { metadata: view.metadata ?? null, stopReason: view.stopReason, clientStatus: view.clientStatus },
  };
  const analyzedAt = row?.analyzed_at ? new Date(row.analyzed_at as string).getTime() : 0;
  return { facts, series: { energy: E, power: P, soc: S }, sessionDbId, analysisVersion: String(analyzedAt) };
}

/** Energy the register gained: increments above its running maximum (a reset does not count twice). */
function delivered(E: Series): number {
  let hi = E.v[0];
  let sum = 0;
  for (let i = 1; i < E.v.length; i++) {
    if (E.v[i] > hi) {
      sum += E.v[i] - hi;
      hi = E.v[i];
    }
  }
  return sum;
}

/** Indexes of the points of `s` in [from, to]. */
function inRange(s: Series, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.t.length; i++) if (s.t[i] >= from && s.t[i] <= to) out.push(i);
  return out;
}

function anomalyFacts(
  index: number,
  a: { category: string; score: number; confidence: number; bucketRange: { startUnit: number; endUnit: number }; timeRange: { startTimestamp: string | null; endTimestamp: string | null } },
  n: { energy: Series; power: Series; soc: Series },
): AnomalyFacts {
  const from = a.timeRange.startTimestamp ? Date.parse(a.timeRange.startTimestamp) : NaN;
  const to = a.timeRange.endTimestamp ? Date.parse(a.timeRange.endTimestamp) : NaN;
  const base: AnomalyFacts = {
    index,
    category: a.category as AnomalyCategory,
    score: r3(a.score),
    confidence: r3(a.confidence),
    bucketRange: a.bucketRange,
    timeRange: a.timeRange,
    durationMinutes: Number.isFinite(from) && Number.isFinite(to) ? r2((to - from) / 60_000) : 0,
    energy: null,
    power: null,
    registerSlopeKw: null,
    soc: null,
  };
  if (!Number.isFinite(from) || !Number.isFinite(to)) return base;
  const E = n.energy;
  const ei = inRange(E, from, to);
  if (ei.length) {
    const before = ei[0] > 0 ? ei[0] - 1 : ei[0];
    const vals = ei.map((i) => E.v[i]);
    const end = E.v[ei[ei.length - 1]];
    let maxBefore = E.v[0];
    for (let i = 0; i <= before; i++) maxBefore = Math.max(maxBefore, E.v[i]);
    base.energy = {
      beforeKwh: r3(E.v[before]),
      minKwh: r3(Math.min(...vals)),
      maxKwh: r3(Math.max(...vals)),
      endKwh: r3(end),
      changeKwh: r3(end - E.v[before]),
      maxBeforeKwh: r3(maxBefore),
    };
    const t0 = E.t[before];
    const t1 = E.t[ei[ei.length - 1]];
    if (t1 > t0) base.registerSlopeKw = r2((end - E.v[before]) / ((t1 - t0) / 3_600_000));
  }
  const pi = inRange(n.power, from, to);
  if (pi.length) {
    const vals = pi.map((i) => n.power.v[i]);
    base.power = { minKw: r2(Math.min(...vals)), maxKw: r2(Math.max(...vals)), meanKw: r2(vals.reduce((x, y) => x + y, 0) / vals.length) };
  }
  const S = n.soc;
  const si = inRange(S, from, to);
  if (si.length) {
    const start = si[0] > 0 ? si[0] - 1 : si[0];
    const end = S.v[si[si.length - 1]];
    base.soc = { startPercent: r2(S.v[start]), endPercent: r2(end), changePoints: r2(end - S.v[start]) };
  }
  return base;
}

export interface StationSession {
  sessionId: string;
  createdAt: string;
  status: string;
  isAnomaly: boolean | null;
  anomalyScore: number | null;
  categories: string[];
}

/** The station's other recent sessions of the tenant, newest first, with their categories. */
export async function stationHistory(em: EntityManager, tenantId: string, sessionDbId: string, limit: number): Promise<{ chargingStationId: string; sessions: StationSession[]; anomalousShare: number | null }> {
  const rows = await sql(
    em,
    `select st.station_id, o.session_id, o.created_at, o.status, o.is_anomaly, o.anomaly_score,
            coalesce((select array_agg(distinct a.category) from session_anomalies a where a.tenant_id = o.tenant_id and a.session_id = o.id), '{}') as categories
       from charging_sessions s
       join charging_stations st on st.id = s.station_id
       join charging_sessions o on o.tenant_id = s.tenant_id and o.station_id = s.station_id and o.id <> s.id
      where s.tenant_id = ? and s.id = ?
      order by o.created_at desc, o.id desc
      limit ?`,
    [tenantId, sessionDbId, limit],
  );
  const [station] = rows.length ? [rows[0].station_id as string] : (await sql(em, 'select st.station_id from charging_sessions s join charging_stations st on st.id = s.station_id where s.tenant_id = ? and s.id = ?', [tenantId, sessionDbId])).map((r) => r.station_id as string);
  const sessions = rows.map((r) => ({
    sessionId: r.session_id as string,
    createdAt: new Date(r.created_at as string).toISOString(),
    status: r.status as string,
    isAnomaly: r.is_anomaly as boolean | null,
    anomalyScore: r.anomaly_score === null ? null : r3(r.anomaly_score as number),
    categories: (r.categories as string[]) ?? [],
  }));
  const analysed = sessions.filter((s) => s.isAnomaly !== null);
  return {
    chargingStationId: station ?? '',
    sessions,
    anomalousShare: analysed.length ? r2(analysed.filter((s) => s.isAnomaly).length / analysed.length) : null,
  };
}

/** The session's database id and current analysis version, by the client's session id; not_found for none. */
export async function sessionRef(em: EntityManager, tenantId: string, sessionId: string): Promise<{ sessionDbId: string; status: string; message: string | null; analysisVersion: string }> {
  const [row] = await sql(em, 'select id, status, message, analyzed_at from charging_sessions where tenant_id = ? and session_id = ?', [tenantId, sessionId]);
  if (!row) throw notFound('Session');
  return {
    sessionDbId: row.id as string,
    status: row.status as string,
    message: (row.message as string | null) ?? null,
    analysisVersion: String(row.analyzed_at ? new Date(row.analyzed_at as string).getTime() : 0),
  };
}
