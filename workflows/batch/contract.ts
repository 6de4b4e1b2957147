// The batch workflow's contract: its input, id, search attributes and activities. Pure definitions.
import { TENANT_ID } from '../search-attributes';

/** One workflow per batch; starting it twice is harmless (the id is the batch's). */
export const batchWorkflowId = (tenantId: string, batchId: string) => `batch/${tenantId}/${batchId}`;

/** Set when the workflow starts, so that operators find a tenant's batches in the Temporal UI. */
export const BATCH_SEARCH_ATTRIBUTES = { tenant: TENANT_ID } as const;

export interface BatchInput {
  tenantId: string;
  batchId: string;
  totalSessions: number;
  chunkSize: number;
  parallelism: number;
  /** Chunks below this index were completed by earlier runs (continue-as-new). */
  nextChunk?: number;
  /** Chunks per workflow run before continuing as new (keeps each run's history small). */
  chunksPerRun?: number;
}

/** The staged sessions with index in [from, to). */
export interface ChunkInput {
  tenantId: string;
  batchId: string;
  from: number;
  to: number;
}

export interface ChunkResult {
  processed: number;
  failed: number;
  skipped: number;
  /** Where the chunk's time went, in ms: sessions and their readings, analysis, verdicts + counters. */
  timings?: { writeMs: number; analyseMs: number; verdictMs: number };
}

export interface BatchActivities {
  /** One transaction: writes, analyses and marks the chunk's still-pending sessions (a retry redoes nothing). */
  processBatchChunk(input: ChunkInput): Promise<ChunkResult>;
  finishBatch(input: { tenantId: string; batchId: string; status: 'completed' | 'failed' }): Promise<void>;
}
