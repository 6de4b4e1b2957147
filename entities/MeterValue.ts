import { EntitySchema } from '@mikro-orm/core';
import { ChargingSession } from './ChargingSession';
import { Tenant } from './Tenant';

/**
 * A meter value exactly as the client sent it (the analysis works on a normalised copy made in
 * memory). `seq` is the arrival order within the session; (session, seq) is the primary key,
 * which is what makes a retried write idempotent.
 */
export class MeterValue {
  tenant!: Tenant;
  session!: ChargingSession;
  seq!: number;
  timestamp!: Date;
  value!: number;
  measurand: string | null = null;
  unit: string | null = null;
  phase: string | null = null;
  location: string | null = null;
  context: string | null = null;
  format: string | null = null;
  multiplier: number | null = null;
  reconstructed = false;
}

export const MeterValueSchema = new EntitySchema<MeterValue>({
  class: MeterValue,
  tableName: 'meter_values',
  properties: {
    // No foreign-key constraints in the database (see the migration that dropped them): the
    // writers hold the session row while they insert, and the per-row checks halved bulk inserts.
    tenant: { kind: 'm:1', entity: () => Tenant, index: false, createForeignKeyConstraint: false },
    session: { kind: 'm:1', entity: () => ChargingSession, primary: true, index: false, createForeignKeyConstraint: false },
    seq: { type: 'integer', primary: true },
    timestamp: { type: 'Date', columnType: 'timestamptz' },
    value: { type: 'double' },
    measurand: { type: 'string', length: 64, nullable: true },
    unit: { type: 'string', length: 16, nullable: true },
    phase: { type: 'string', length: 8, nullable: true },
    location: { type: 'string', length: 16, nullable: true },
    context: { type: 'string', length: 32, nullable: true },
    format: { type: 'string', length: 16, nullable: true },
    multiplier: { type: 'smallint', nullable: true },
    reconstructed: { type: 'boolean', default: false },
  },
});

/**
 * A write to a session (create / replace / append) staged by the API before the session actor
 * applies it: the workflow carries only this id, never the readings themselves.
 */
export class SessionWrite {
  id!: string;
  tenant!: Tenant;
  session!: ChargingSession;
  kind!: 'create' | 'replace' | 'append';
  /** Readings and session fields of the request; cleared once applied. */
  payload!: SessionWritePayload | null;
  readingCount!: number;
  createdAt: Date = new Date();
  appliedAt: Date | null = null;
}

/** A staged write's request as validated (its readings are cleared once applied). */
export type SessionWritePayload = import('../domain/sessions/writes').SessionWriteInput;

export const SessionWriteSchema = new EntitySchema<SessionWrite>({
  class: SessionWrite,
  tableName: 'session_writes',
  indexes: [{ properties: ['session', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    session: { kind: 'm:1', entity: () => ChargingSession, deleteRule: 'cascade', index: false },
    kind: { type: 'string', length: 16 },
    payload: { type: 'json', nullable: true },
    readingCount: { type: 'integer' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    appliedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
