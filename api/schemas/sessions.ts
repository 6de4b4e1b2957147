// Session request and response schemas (the reference's `002` shapes) and the one presenter that
// turns stored sessions into responses, shared by every endpoint that returns sessions.
import type { ChargingSession, MeterValue } from '../../entities';
import type { SessionView } from '../../workflows/session/contract';
import { config } from '../../config';
import { ANOMALY_CATEGORIES, type RawMeterValue } from '../../domain/analysis/types';
import { CONTEXTS, LOCATIONS, MAX_VALUE, MEASURANDS, PHASES, UNITS } from '../../domain/analysis/validate';
import { RESERVED_SESSION_IDS } from '../../domain/sessions/types';
import { filterTime, iso, NO_NUL_PATTERN, PaginationQuery, queryBoolean, text, timestampOut } from './common';
import { z } from '../zod';

const nullableString = (max: number, description: string) => z.string().max(max).nullish().openapi({ description, pattern: NO_NUL_PATTERN });

// What JavaScript's String.prototype.trim removes (the vocabulary fields are trimmed before lookup).
const JS_SPACE = '[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';
let lowerOf: Map<string, string[]> | undefined;

/** Every single character whose lower case is `c` (so `k` → k, K and the Kelvin sign). */
function caseVariants(c: string): string[] {
  if (!lowerOf) {
    lowerOf = new Map();
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const ch = String.fromCharCode(code);
      const lower = ch.toLowerCase();
      if (lower.length === 1) lowerOf.set(lower, [...(lowerOf.get(lower) ?? []), ch]);
    }
  }
  return lowerOf.get(c) ?? [c];
}

const regexChar = (ch: string) => (/[A-Za-z0-9 ]/.test(ch) ? ch : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The pattern of a vocabulary field exactly as `canonical()` (domain/analysis/validate.ts) accepts
 * it: one of the words in any case, with spaces around, or blank (not set).
 */
function vocabularyPattern(words: string[]): string {
  const word = (w: string) =>
    [...w.toLowerCase()].map((c) => {
      const variants = caseVariants(c);
      return variants.length === 1 ? regexChar(variants[0]) : `[${variants.map(regexChar).join('')}]`;
    }).join('');
  return `^${JS_SPACE}*(?:${words.map(word).join('|')})?${JS_SPACE}*$`;
}

/**
 * An OCPP vocabulary field: checked by the domain (a 422 names the reading and field), documented
 * here as the enum of its canonical spellings and the pattern of every spelling the server takes.
 */
function vocabularyField(vocab: ReadonlyMap<string, string>, max: number, description: string) {
  const words = [...new Set(vocab.values())];
  return z
    .string()
    .max(max)
    .nullish()
    .openapi({
      description: `${description}. One of: ${words.join(', ')} — case-insensitive, surrounding spaces ignored; blank or null means not set.`,
      anyOf: [
        { type: 'string', enum: words, nullable: true },
        { type: 'string', pattern: vocabularyPattern(words), nullable: true },
      ],
    } as never);
}

/** Longest text of each optional reading field, shared by the schema and `meterValuesPass`. */
const READING_TEXT_MAX = { measurand: 64, unit: 16, phase: 8, location: 16, context: 32, format: 16 } as const;
const TIMESTAMP_MAX = 64;

export const MeterValueIn = z
  .object({
    timestamp: z.string().max(TIMESTAMP_MAX).openapi({
      format: 'date-time',
      description:
        'RFC 3339 date-time with a UTC offset (Z or ±HH:MM, at most ±15:59), stored in UTC; not before 2000-01-01 and at most 24 hours ahead of the server\'s clock (otherwise a 422 naming the reading). ' +
        'Also accepted: a space instead of T, no seconds, an offset as ±HHMM or ±HH.',
      example: '2026-02-27T10:00:00Z',
    }),
    value: z.number().openapi({ description: 'Measured value in the given unit', minimum: 0, maximum: MAX_VALUE }),
    measurand: vocabularyField(MEASURANDS, READING_TEXT_MAX.measurand, 'OCPP 1.6/2.0.1 measurand (default Energy.Active.Import.Register)'),
    unit: vocabularyField(UNITS, READING_TEXT_MAX.unit, 'OCPP unit of measure (default Wh for energy, W for power)'),
    phase: vocabularyField(PHASES, READING_TEXT_MAX.phase, 'OCPP phase; none means total'),
    location: vocabularyField(LOCATIONS, READING_TEXT_MAX.location, 'OCPP location (default Outlet)'),
    context: vocabularyField(CONTEXTS, READING_TEXT_MAX.context, 'OCPP reading context (default Sample.Periodic)'),
    format: nullableString(READING_TEXT_MAX.format, 'OCPP value format (Raw, SignedData); not checked'),
    multiplier: z.number().int().nullish().openapi({ description: 'OCPP 2.0.1 unitOfMeasure.multiplier (power of ten)', minimum: -9, maximum: 9 }),
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
  metadata: z
    .record(z.string(), z.unknown())
    .nullish()
    .openapi({ description: 'Free-form client metadata (e.g. maxPowerKw, the station rating). No NUL character in keys or strings.' }),
  stopReason: nullableString(100, 'OCPP stop reason (e.g. Local, Remote, EVDisconnected)'),
};

/**
 * A string (as the reference types it) or a non-negative integer (as OCPP sends it); an integer is
 * stored and answered as its decimal string.
 */
const connectorIdSchema = z
  .union([z.string().max(100), z.number().int().nonnegative()])
  .nullish()
  .transform((v) => (v === undefined || v === null ? v : String(v)))
  .openapi({
    description: 'Connector identifier within the station: a string, or a non-negative integer (OCPP) that is stored and answered as its decimal string',
    anyOf: [
      { type: 'string', maxLength: 100, pattern: NO_NUL_PATTERN, nullable: true },
      { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, nullable: true },
    ],
  } as never);

/** A session id other than the reserved path words (`/v1/sessions/batch` is the batch resource). */
const sessionIdField = text(200, 1)
  .refine((v) => !RESERVED_SESSION_IDS.includes(v), { message: `"${RESERVED_SESSION_IDS.join('", "')}" is reserved (/v1/sessions/batch is the batch endpoint); choose another session id` })
  .openapi({ description: `Client's unique session id (upsert key). Not "${RESERVED_SESSION_IDS.join('", "')}" (a 422): that path is the batch endpoint.`, not: { enum: RESERVED_SESSION_IDS } } as never);

export const SessionCreate = z
  .object({
    sessionId: sessionIdField,
    chargingStationId: text(200, 1),
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

export const SessionIdParams = z.object({ session_id: text(200, 1) });

export const SessionListQuery = PaginationQuery.extend({
  chargingStationId: text(200).optional(),
  evseId: text(200).optional(),
  isAnomaly: queryBoolean.optional(),
  minScore: z.coerce.number().min(0).max(1).optional().openapi({ type: 'number', minimum: 0, maximum: 1 }),
  minConfidence: z.coerce.number().min(0).max(1).optional().openapi({ type: 'number', minimum: 0, maximum: 1 }),
  dateFrom: filterTime('Sessions whose first reading (or creation, if none) is at or after this time').optional(),
  dateTo: filterTime('Sessions whose first reading (or creation, if none) is before this time').optional(),
});

const AnomalyOut = z
  .object({
    category: z.enum(ANOMALY_CATEGORIES as [string, ...string[]]),
    score: z.number(),
    confidence: z.number(),
    bucketRange: z.object({ startUnit: z.number().int(), endUnit: z.number().int() }).nullable(),
    timeRange: z.object({ startTimestamp: timestampOut().nullable(), endTimestamp: timestampOut().nullable() }).nullable(),
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
    analyzedAt: timestampOut().nullable(),
    socReconstructed: z.boolean().openapi({ description: 'Whether SORC reconstructed the SoC of this session (see reconstructedSoc on GET /v1/sessions/{session_id})' }),
    message: z.string().nullable(),
    stopReason: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    createdAt: timestampOut(),
  })
  .openapi('SessionAnalysisResponse');

const MeterValueOut = z
  .object({
    timestamp: timestampOut(),
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
        timestamp: timestampOut(),
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
    anomalyCount: z.number().int().min(0).openapi({ description: 'Number of anomaly categories detected in the latest analysis (not of anomaly ranges)' }),
    status: z.enum(['pending', 'active', 'failed']),
    createdAt: timestampOut(),
    lastAnalyzedAt: timestampOut().nullable(),
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
