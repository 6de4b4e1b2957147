// The session actor's contract: what clients, the worker and tests need to talk to it, and nothing
// of its implementation. Pure definitions: safe in workflow code and in Node alike.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ANOMALY_SCORE, IS_ANOMALY, STATION_ID, TENANT_ID } from '../search-attributes';

/** One actor per (tenant, client session id). */
export const sessionWorkflowId = (tenantId: string, sessionId: string) => `session/${tenantId}/${sessionId}`;

/**
 * Search attributes of the actor: tenant and station are set when a run starts; the verdict's
 * (`isAnomaly`, `anomalyScore`) and a station change are upserted when a write or a refresh changes them.
 */
export const SESSION_SEARCH_ATTRIBUTES = { tenant: TENANT_ID, station: STATION_ID, isAnomaly: IS_ANOMALY, anomalyScore: ANOMALY_SCORE } as const;

export interface SessionActorInput {
  tenantId: string;
  sessionDbId: string;
  sessionId: string;
  /** A session with no write for this long closes its actor; a later write starts a new run. */
  quietPeriodMs: number;
  /** Carried over continue-as-new. */
  last?: SessionView | null;
}

export type WriteKind = 'create' | 'replace' | 'append';

/** A write staged in PostgreSQL (`session_writes`): the actor gets its id, never the readings. */
export interface WriteRequest {
  writeId: string;
  kind: WriteKind;
  readingCount: number;
}

export type ClientStatus = 'active' | 'pending' | 'completed' | 'invalid';

export interface AnomalyView {
  category: string;
  score: number;
  confidence: number;
  bucketRange: { startUnit: number; endUnit: number };
  timeRange: { startTimestamp: string | null; endTimestamp: string | null };
}

/**
 * A session as stored after a write: what the write answers the client (so the API need not read
 * it back) and what the actor remembers. It goes into workflow history, so it holds no readings,
 * and `metadata` is left out (undefined) when its JSON is larger than METADATA_IN_VIEW_MAX.
 */
export interface SessionView {
  sessionId: string;
  chargingStationId: string;
  connectorId: string | null;
  evseId: string | null;
  /** Analysis status: `pending` until 3 usable readings, `failed` when the pipeline could not run. */
  status: 'pending' | 'active' | 'failed';
  isAnomaly: boolean | null;
  anomalyScore: number | null;
  anomalyConfidence: number | null;
  anomalyCount: number;
  isIncident: boolean | null;
  isRecurring: boolean | null;
  anomalies: AnomalyView[];
  analyzedAt: string | null;
  socReconstructed: boolean;
  message: string | null;
  stopReason: string | null;
  metadata?: Record<string, unknown> | null;
  /** What the client said of the session's lifecycle (`completed`/`invalid` close the actor). */
  clientStatus: ClientStatus | null;
  readingCount: number;
  createdAt: string;
}

/** Larger metadata stays out of workflow history; whoever needs it reads it from PostgreSQL. */
export const METADATA_IN_VIEW_MAX = 8 * 1024;

/** Apply a staged write and answer with the fresh analysis (null: the write was withdrawn). */
export const writeUpdate = defineUpdate<SessionView | null, [WriteRequest]>('write');
/** The session as of the actor's last write or refresh. */
export const lastAnalysisQuery = defineQuery<SessionView | null>('lastAnalysis');
/** The session changed outside the actor (a batch rewrote it): re-read it and its search attributes. */
export const refreshSignal = defineSignal('refresh');

/** The activities the actor runs (local activities, in the worker that runs the actor). */
export interface SessionActivities {
  /** Applies a staged write (idempotent), analyses the session, stores the verdict; null if the write is gone. */
  applyWriteAndAnalyse(input: { tenantId: string; writeId: string; sessionDbId: string }): Promise<SessionView | null>;
  /** The session as stored now (null if it is gone). */
  readSessionView(input: { tenantId: string; sessionDbId: string }): Promise<SessionView | null>;
}
