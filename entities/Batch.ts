import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

export type BatchStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** A batch of sessions submitted at once; its sessions are staged as BatchItems. */
export class Batch {
  id: string = randomUUID();
  tenant: Tenant;
  status: BatchStatus = 'pending';
  totalSessions: number;
  totalReadings: number;
  processedSessions = 0;
  failedSessions = 0;
  /** Client's Idempotency-Key: a retried submit with the same key returns this batch. */
  idempotencyKey: string | null = null;
  /** SHA-256 of the request body, to refuse a reused key with a different body. */
  requestHash: string;
  createdAt: Date = new Date();
  completedAt: Date | null = null;

  constructor(tenant: Tenant, totalSessions: number, totalReadings: number, requestHash: string) {
    this.tenant = tenant;
    this.totalSessions = totalSessions;
    this.totalReadings = totalReadings;
    this.requestHash = requestHash;
  }
}

export const BatchSchema = new EntitySchema<Batch>({
  class: Batch,
  tableName: 'batches',
  uniques: [{ properties: ['tenant', 'idempotencyKey'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    status: { type: 'string', length: 16 },
    totalSessions: { type: 'integer' },
    totalReadings: { type: 'integer' },
    processedSessions: { type: 'integer' },
    failedSessions: { type: 'integer' },
    idempotencyKey: { type: 'string', length: 200, nullable: true },
    requestHash: { type: 'string', length: 64 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});

/**
 * One session of a batch, staged at submit until a chunk activity processes it. `idx` is its
 * position in the request; (batch, idx) is the key that makes processing exactly-once. Its
 * readings wait here as JSON until the chunk writes them to the session (a new session gets
 * `stagedId` as its id) and analyses them.
 */
export class BatchItem {
  batch!: Batch;
  idx!: number;
  tenant!: Tenant;
  sessionId!: string;
  stationId!: string;
  connectorId: string | null = null;
  evseId: string | null = null;
  metadata: Record<string, unknown> | null = null;
  clientStatus: string | null = null;
  stopReason: string | null = null;
  /** Readings the item carried (> 0 replaces the session's readings, as POST does). */
  readingCount!: number;
  stagedId!: string;
  /** The session's JSON as the client sent it (validated), for the chunk's readings; cleared once processed. */
  sessionJson: string | null = null;
  /**
   * Which optional session fields the client sent (`PRESENT_FIELD_BITS` of domain/sessions/types):
   * an explicit null clears the session's value, an absent field keeps it.
   */
  presentFields = 0;
  state: 'pending' | 'done' | 'failed' = 'pending';
  message: string | null = null;
  sessionDbId: string | null = null;
  processedAt: Date | null = null;
}

export const BatchItemSchema = new EntitySchema<BatchItem>({
  class: BatchItem,
  tableName: 'batch_items',
  properties: {
    batch: { kind: 'm:1', entity: () => Batch, primary: true, deleteRule: 'cascade' },
    idx: { type: 'integer', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    sessionId: { type: 'string', length: 200 },
    stationId: { type: 'string', length: 200 },
    connectorId: { type: 'string', length: 100, nullable: true },
    evseId: { type: 'string', length: 200, nullable: true },
    metadata: { type: 'json', nullable: true },
    clientStatus: { type: 'string', length: 16, nullable: true },
    stopReason: { type: 'string', length: 100, nullable: true },
    readingCount: { type: 'integer' },
    stagedId: { type: 'uuid' },
    sessionJson: { type: 'text', nullable: true, lazy: true },
    presentFields: { type: 'smallint', default: 0 },
    state: { type: 'string', length: 16 },
    message: { type: 'text', nullable: true },
    sessionDbId: { type: 'uuid', nullable: true },
    processedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
