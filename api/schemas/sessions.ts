// Session request and response schemas (the reference's `002` shapes) and the one presenter that
// turns stored sessions into responses, shared by every endpoint that returns sessions.
import type { ChargingSession, MeterValue } from '../../entities';
import type { SessionView } from '../../workflows/session/contract';
import { config } from '../../config';
import { ANOMALY_CATEGORIES, type RawMeterValue } from '../../domain/analysis/types';
import { iso, isoDateTime, PaginationQuery, queryBoolean } from './common';
import { z } from '../zod';

const nullableString = (max: number, description: string) => z.string().max(max).nullish().openapi({ description });

/** Longest text of each optional reading field, shared by the schema and `meterValuesPass`. */
const READING_TEXT_MAX = { measurand: 64, unit: 16, phase: 8, location: 16, context: 32, format: 16 } as const;
const TIMESTAMP_MAX = 64;

export const MeterValueIn = z
  .object({
    timestamp: z.string().max(TIMESTAMP_MAX).openapi({ description: 'ISO 8601 timestamp with a UTC offset (stored in UTC)', example: '2026-02-27T10:00:00Z' }),
    value: z.number().openapi({ description: 'Measured value in the given unit (0 to 10,000,000,000)' }),
    measurand: nullableString(READING_TEXT_MAX.measurand, 'OCPP measurand (default Energy.Active.Import.Register)'),
    unit: nullableString(READING_TEXT_MAX.unit, 'OCPP unit of measure, case-insensitive (default Wh)'),
    phase: nullableString(READING_TEXT_MAX.phase, 'OCPP phase (L1, L2, L3, N, L1-N, …); none means total'),
    location: nullableString(READING_TEXT_MAX.location, 'OCPP location (Outlet default, Inlet, Cable, EV, Body, Upstream)'),
    context: nullableString(READING_TEXT_MAX.context, 'OCPP reading context (Sample.Periodic default, Transaction.Begin, …)'),
    format: nullableString(READING_TEXT_MAX.format, 'OCPP value format (Raw, SignedData)'),
    multiplier: z.number().int().nullish().openapi({ description: 'OCPP 2.0.1 unitOfMeasure.multiplier (power of ten)' }),
    reconstructed: z.boolean().optional().openapi({ description: 'True if the value was reconstructed (never set by clients in practice)' }),
  })
  .openapi('MeterValue');

const meterValues = z.array(MeterValueIn).max(config.maxReadingsPerRequest, `at most ${config.maxReadingsPerRequest} meter values per request`);

const READING_TEXT_FIELDS = Object.entries(READING_TEXT_MAX);
const optionalText = (v: unknown, max: number) => v === undefined || v === null || (typeof v === 'string' && v.length <= max);

/**
 * True only if the meterValues schema above accepts `values` (parsed JSON): its rules written out
 * for the batch submit, where the schema's generic checks cost a fifth of the submit's time (about
 * 30 µs per 96-reading session). Callers run the schema when this says no, for its messages; a
 * test holds the two in agreement on random readings.
 */
export function meterValuesPass(values: unknown): values is RawMeterValue[] {
  if (!Array.isArray(values) || values.length > config.maxReadingsPerRequest) return false;
  for (const m of values as Record<string, unknown>[]) {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
    if (typeof m.timestamp !== 'string' || m.timestamp.length > TIMESTAMP_MAX) return false;
    if (typeof m.value !== 'number' || !Number.isFinite(m.value)) return false;
    for (const [field, max] of READING_TEXT_FIELDS) if (!optionalText(m[field], max)) return false;
    if (!(m.multiplier === undefined || m.multiplier === null || Number.isSafeInteger(m.multiplier))) return false;
    if (!(m.reconstructed === undefined || typeof m.reconstructed === 'boolean')) return false;
  }
  return true;
}

const SessionFields = {
  metadata: z.record(z.string(), z.unknown()).nullish().openapi({ description: 'Free-form client metadata (e.g. maxPowerKw, the station rating)' }),
  stopReason: nullableString(100, 'OCPP stop reason (e.g. Local, Remote, EVDisconnected)'),
};

const connectorIdSchema = z
  .union([z.string().max(100), z.number().int().nonnegative()])
  .nullish()
  .transform((v) => (v === undefined || v === null ? v : String(v)))
  .openapi({ type: 'string', description: 'Connector identifier within the station' });

export const SessionCreate = z
  .object({
    sessionId: z.string().min(1).max(200).openapi({ description: "Client's unique session id (upsert key)" }),
    chargingStationId: z.string().min(1).max(200),
    connectorId: connectorIdSchema,
    evseId: nullableString(200, 'EVSE identifier (EU standard)'),
    meterValues: meterValues.default([]),
    status: z.enum(['active', 'pending', 'completed', 'invalid']).nullish(),
    ...SessionFields,
  })
  .openapi('SessionCreateRequest');

export const SessionReplace = z
  .object({
    meterValues: meterValues.min(1, 'at least one meter value is required'),
    status: z.enum(['completed', 'invalid']).nullish(),
    ...SessionFields,
  })
  .openapi('SessionReplaceRequest');

export const SessionAppend = z
  .object({
    meterValues: meterValues.default([]),
    status: z.enum(['completed', 'invalid']).nullish(),
    ...SessionFields,
  })
  .openapi('SessionAppendRequest');

export const SessionIdParams = z.object({ session_id: z.string().min(1).max(200) });

export const SessionListQuery = PaginationQuery.extend({
  chargingStationId: z.string().max(200).optional(),
  evseId: z.string().max(200).optional(),
  isAnomaly: queryBoolean.optional(),
  minScore: z.coerce.number().min(0).max(1).optional(),
  minConfidence: z.coerce.number().min(0).max(1).optional(),
  dateFrom: isoDateTime.optional().openapi({ description: 'Sessions whose first reading (or creation, if none) is at or after this time' }),
  dateTo: isoDateTime.optional().openapi({ description: 'Sessions whose first reading (or creation, if none) is before this time' }),
});

const AnomalyOut = z
  .object({
    category: z.enum(ANOMALY_CATEGORIES as [string, ...string[]]),
    score: z.number(),
    confidence: z.number(),
    bucketRange: z.object({ startUnit: z.number().int(), endUnit: z.number().int() }).nullable(),
    timeRange: z.object({ startTimestamp: z.string().nullable(), endTimestamp: z.string().nullable() }).nullable(),
  })
  .openapi('AnomalyDetail');

export const SessionOut = z
  .object({
    sessionId: z.string(),
    chargingStationId: z.string(),
    connectorId: z.string().nullable(),
    evseId: z.string().nullable(),
    status: z.enum(['pending', 'active', 'failed']),
    isAnomaly: z.boolean().nullable(),
    anomalyScore: z.number().nullable(),
    anomalyConfidence: z.number().nullable(),
    isIncident: z.boolean().nullable(),
    isRecurring: z.boolean().nullable(),
    anomalies: z.array(AnomalyOut),
    analyzedAt: z.string().nullable(),
    socReconstructed: z.boolean().openapi({ description: 'Whether SORC reconstructed the SoC of this session (see reconstructedSoc on GET /v1/sessions/{session_id})' }),
    message: z.string().nullable(),
    stopReason: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .openapi('SessionAnalysisResponse');

const MeterValueOut = z
  .object({
    timestamp: z.string(),
    value: z.number(),
    measurand: z.string().nullable(),
    unit: z.string().nullable(),
    phase: z.string().nullable(),
    location: z.string().nullable(),
    context: z.string().nullable(),
    reconstructed: z.boolean(),
  })
  .openapi('MeterValueOut');

export const SessionDetailOut = SessionOut.extend({
  meterValues: z.array(MeterValueOut),
  reconstructedSoc: z
    .array(
      z.object({
        timestamp: z.string(),
        value: z.number().openapi({ description: 'SoC in percent (0–100)' }),
        low: z.number().optional().openapi({ description: 'Extension: lower end of the calibrated 80 % band (0–100); absent for overlays stored before bands' }),
        high: z.number().optional().openapi({ description: 'Extension: upper end of the calibrated 80 % band (0–100)' }),
      }),
    )
    .openapi({
      description:
        'SoC estimated by the SORC model for a session that reports no SoC of its own: one point per 15-second bucket with an energy or power reading. An overlay only: never part of the meter values the anomaly detection analyses. Empty when the session has SoC.',
    }),
  sorcConfidence: z.number().nullable().openapi({
    description: 'Calibrated chance (0–1) that a reconstructed point is within 10 SoC points of the truth; null when reconstructedSoc is empty',
  }),
  readingCount: z.number().int(),
  dataQuality: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'What normalisation found: duplicates, conflicts, suspicious units, clock issues' }),
}).openapi('SessionDetailResponse');

export const SessionListItem = z
  .object({
    sessionId: z.string(),
    chargingStationId: z.string(),
    connectorId: z.string().nullable(),
    evseId: z.string().nullable(),
    isAnomaly: z.boolean().nullable(),
    anomalyScore: z.number().nullable(),
    anomalyConfidence: z.number().nullable(),
    anomalyCount: z.number().int(),
    status: z.enum(['pending', 'active', 'failed']),
    createdAt: z.string(),
    lastAnalyzedAt: z.string().nullable(),
  })
  .openapi('SessionListItem');

/** The session response of every endpoint that returns one (writes, GET, batch results). */
export function presentSession(s: SessionView): z.infer<typeof SessionOut> {
  return {
    sessionId: s.sessionId,
    chargingStationId: s.chargingStationId,
    connectorId: s.connectorId,
    evseId: s.evseId,
    status: s.status,
    isAnomaly: s.isAnomaly,
    anomalyScore: s.anomalyScore,
    anomalyConfidence: s.anomalyConfidence,
    isIncident: s.isIncident,
    isRecurring: s.isRecurring,
    anomalies: [...s.anomalies].sort((a, b) => b.score - a.score || a.bucketRange.startUnit - b.bucketRange.startUnit),
    analyzedAt: s.analyzedAt,
    socReconstructed: s.socReconstructed,
    message: s.message,
    stopReason: s.stopReason,
    metadata: s.metadata ?? null,
    createdAt: s.createdAt,
  };
}

export function presentMeterValue(m: MeterValue) {
  return {
    timestamp: iso(m.timestamp)!,
    value: m.value,
    measurand: m.measurand,
    unit: m.unit,
    phase: m.phase,
    location: m.location,
    context: m.context,
    reconstructed: m.reconstructed,
  };
}

export function presentListItem(s: ChargingSession): z.infer<typeof SessionListItem> {
  return {
    sessionId: s.sessionId,
    chargingStationId: s.station.stationId,
    connectorId: s.connectorId,
    evseId: s.evseId,
    isAnomaly: s.isAnomaly,
    anomalyScore: s.anomalyScore,
    anomalyConfidence: s.anomalyConfidence,
    anomalyCount: s.anomalyCount,
    status: s.status,
    createdAt: iso(s.createdAt)!,
    lastAnalyzedAt: iso(s.analyzedAt),
  };
}
