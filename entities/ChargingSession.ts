import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import type { AnomalyCategory, DataQuality, SocPoints } from '../domain/analysis/types';
import { ChargingStation } from './ChargingStation';
import { Tenant } from './Tenant';

export type AnalysisStatus = 'pending' | 'active' | 'failed';
export type ClientStatus = 'active' | 'pending' | 'completed' | 'invalid';

/**
 * The query side of a charging session: what the client told us about it and the latest verdict.
 * The session actor workflow writes it; GET endpoints read it.
 */
export class ChargingSession {
  id: string = randomUUID();
  tenant: Tenant;
  /** The client's session id, unique per tenant. */
  sessionId: string;
  station: ChargingStation;
  connectorId: string | null = null;
  evseId: string | null = null;
  metadata: Record<string, unknown> | null = null;
  /** What the client said of the session's lifecycle (`completed`/`invalid` close it). */
  clientStatus: ClientStatus | null = null;
  stopReason: string | null = null;
  /** Analysis status as the API reports it. */
  status: AnalysisStatus = 'pending';
  message: string | null = null;
  isAnomaly: boolean | null = null;
  anomalyScore: number | null = null;
  anomalyConfidence: number | null = null;
  anomalyCount = 0;
  isIncident: boolean | null = null;
  isRecurring: boolean | null = null;
  /** SORC's SoC overlay for sessions without SoC (never part of the analysed readings). */
  socReconstructed = false;
  reconstructedSoc: SocPoints | null = null;
  sorcConfidence: number | null = null;
  analyzedAt: Date | null = null;
  /** Readings stored for the session, and the arrival counter that orders them. */
  readingCount = 0;
  nextSeq = 0;
  /** First and last reading timestamps (what date filters use). */
  startedAt: Date | null = null;
  endedAt: Date | null = null;
  quality: DataQuality | null = null;
  /** Bucket grid of the last analysis: bucket ranges are relative to its t0. */
  analysisWindow: { t0: string; tEnd: string; bucketCount: number; truncated: boolean } | null = null;
  detector: string | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(tenant: Tenant, sessionId: string, station: ChargingStation) {
    this.tenant = tenant;
    this.sessionId = sessionId;
    this.station = station;
  }
}

export const ChargingSessionSchema = new EntitySchema<ChargingSession>({
  class: ChargingSession,
  tableName: 'charging_sessions',
  uniques: [{ properties: ['tenant', 'sessionId'] }],
  indexes: [{ properties: ['tenant', 'createdAt'] }, { properties: ['tenant', 'station'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    sessionId: { type: 'string', length: 200 },
    station: { kind: 'm:1', entity: () => ChargingStation, deleteRule: 'cascade' },
    connectorId: { type: 'string', length: 100, nullable: true },
    evseId: { type: 'string', length: 200, nullable: true },
    metadata: { type: 'json', nullable: true },
    clientStatus: { type: 'string', length: 16, nullable: true },
    stopReason: { type: 'string', length: 100, nullable: true },
    status: { type: 'string', length: 16 },
    message: { type: 'text', nullable: true },
    isAnomaly: { type: 'boolean', nullable: true },
    anomalyScore: { type: 'double', nullable: true },
    anomalyConfidence: { type: 'double', nullable: true },
    anomalyCount: { type: 'integer' },
    isIncident: { type: 'boolean', nullable: true },
    isRecurring: { type: 'boolean', nullable: true },
    socReconstructed: { type: 'boolean' },
    reconstructedSoc: { type: 'json', nullable: true, lazy: true },
    sorcConfidence: { type: 'double', nullable: true },
    analyzedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    readingCount: { type: 'integer' },
    nextSeq: { type: 'integer' },
    startedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    endedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    quality: { type: 'json', nullable: true },
    analysisWindow: { type: 'json', nullable: true },
    detector: { type: 'string', length: 50, nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** One anomaly of a session's latest analysis. */
export class SessionAnomaly {
  id: string = randomUUID();
  tenant: Tenant;
  session: ChargingSession;
  category: AnomalyCategory;
  score: number;
  confidence: number;
  startUnit: number;
  endUnit: number;
  startTimestamp: Date;
  endTimestamp: Date;

  constructor(init: Omit<SessionAnomaly, 'id'>) {
    this.tenant = init.tenant;
    this.session = init.session;
    this.category = init.category;
    this.score = init.score;
    this.confidence = init.confidence;
    this.startUnit = init.startUnit;
    this.endUnit = init.endUnit;
    this.startTimestamp = init.startTimestamp;
    this.endTimestamp = init.endTimestamp;
  }
}

export const SessionAnomalySchema = new EntitySchema<SessionAnomaly>({
  class: SessionAnomaly,
  tableName: 'session_anomalies',
  indexes: [{ properties: ['session'] }, { properties: ['tenant', 'category'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    session: { kind: 'm:1', entity: () => ChargingSession, deleteRule: 'cascade' },
    category: { type: 'string', length: 40 },
    score: { type: 'double' },
    confidence: { type: 'double' },
    startUnit: { type: 'integer' },
    endUnit: { type: 'integer' },
    startTimestamp: { type: 'Date', columnType: 'timestamptz' },
    endTimestamp: { type: 'Date', columnType: 'timestamptz' },
  },
});
