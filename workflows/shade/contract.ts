// The SHADE run's contract: one workflow run per tenant and local day, started by the tenant's
// Temporal Schedule (workflow id `shade/<tenant id>-<scheduled time>`, as the schedule names its
// runs), by its backfill or by a trigger from the Temporal UI. Pure definitions.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SHADE_DAY, TENANT_ID } from '../search-attributes';

/** The schedule's id, and the prefix of the workflow ids of its runs. */
export const shadeScheduleId = (tenantId: string) => `shade/${tenantId}`;

/** Set on every run: find a tenant's runs, or the runs of one analysed day, in the Temporal UI. */
export const SHADE_SEARCH_ATTRIBUTES = { tenant: TENANT_ID, day: SHADE_DAY } as const;

/** Temporal sets this on each run a schedule starts (backfills too): the slot the run is for. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ShadeRunInput {
  tenantId: string;
  /** A local day (YYYY-MM-DD) to analyse; default: the day before the run's scheduled time, in the organization's time zone. */
  day?: string;
  /** Stations per activity (default 500). */
  chunkSize?: number;
  /** Activities at once (default 2). */
  parallelism?: number;
}

export interface ShadeRunResult {
  day: string;
  timeZone: string;
  stations: number;
  chunks: number;
  stored: number;
  anomalous: number;
  events: number;
}

/** A chunk's stations: a range of station ids, or (runs that started before chunk ranges) the ids. */
export type ShadeChunkStations = { fromStation: string; untilStation: string | null } | { stationIds: string[] };

export type ShadeChunkInput = { tenantId: string; day: string; timeZone: string } & ShadeChunkStations;

export interface ShadeChunkResult {
  stations: number;
  stored: number;
  anomalous: number;
  events: number;
}

export interface ShadePlanInput {
  tenantId: string;
  day?: string;
  scheduledAt: string;
  /** Stations per chunk; absent in runs that started before chunk ranges (they get the ids). */
  chunkSize?: number;
}

/**
 * The day, its time zone and the stations with energy to compare: how many, and the first id of
 * each chunk (a chunk runs from its first id up to the next chunk's). Runs that started before
 * chunk ranges got `stationIds` instead, which do not fit a history event for a large tenant.
 */
export interface ShadePlanResult {
  day: string;
  timeZone: string;
  stations?: number;
  chunkStarts?: string[];
  stationIds?: string[];
}

export interface ShadeActivities {
  planShadeRun(input: ShadePlanInput): Promise<ShadePlanResult>;
  /** Builds the chunk's station-days from the rollups, runs SHADE, stores the results and their events; heartbeats per slice. */
  runShadeChunk(input: ShadeChunkInput): Promise<ShadeChunkResult>;
}
