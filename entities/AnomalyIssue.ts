import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { ChargingSession } from './ChargingSession';
import { ChargingStation } from './ChargingStation';
import { Member } from './Member';
import { Tenant } from './Tenant';

export const ANOMALY_ISSUE_STATUSES = ['OPEN', 'IN_PROGRESS', 'RESOLVED', 'FALSE_POSITIVE'] as const;
export type AnomalyIssueStatus = (typeof ANOMALY_ISSUE_STATUSES)[number];
export type ResolvedBy = 'member' | 'detector';

/**
 * One issue per (session, category): opened (OPEN, unassigned) when an analysis first finds the
 * category on the session, resolved by the detector when a later analysis no longer finds it, and
 * reopened if it comes back. Members triage it (status, assignee). Written with set-based SQL by
 * `storeVerdicts` (domain/sessions/analysis.ts) and `domain/anomalies/`; the entity is for reads.
 *
 * `station`, `connectorId`, `evseId` copy the session's (kept current by each analysis);
 * `occurredAt`/`occurredUntil` span the category's ranges in the readings of the latest analysis
 * that found it.
 */
export class AnomalyIssue {
  id: string = randomUUID();
  tenant!: Tenant;
  session!: ChargingSession;
  category!: string;
  status: AnomalyIssueStatus = 'OPEN';
  resolvedBy: ResolvedBy | null = null;
  assignee: Member | null = null;
  maxScore!: number;
  firstDetectedAt!: Date;
  lastDetectedAt!: Date;
  station!: ChargingStation;
  connectorId: string | null = null;
  evseId: string | null = null;
  occurredAt!: Date;
  occurredUntil!: Date;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const AnomalyIssueSchema = new EntitySchema<AnomalyIssue>({
  class: AnomalyIssue,
  tableName: 'anomaly_issues',
  uniques: [{ properties: ['session', 'category'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    session: { kind: 'm:1', entity: () => ChargingSession, deleteRule: 'cascade', index: false },
    category: { type: 'string', length: 40 },
    status: { type: 'string', length: 16 },
    resolvedBy: { type: 'string', length: 16, nullable: true },
    assignee: { kind: 'm:1', entity: () => Member, fieldName: 'assignee_member_id', nullable: true, deleteRule: 'set null', index: false },
    maxScore: { type: 'double' },
    firstDetectedAt: { type: 'Date', columnType: 'timestamptz' },
    lastDetectedAt: { type: 'Date', columnType: 'timestamptz' },
    station: { kind: 'm:1', entity: () => ChargingStation, deleteRule: 'cascade', index: false },
    connectorId: { type: 'string', length: 100, nullable: true },
    evseId: { type: 'string', length: 200, nullable: true },
    occurredAt: { type: 'Date', columnType: 'timestamptz' },
    occurredUntil: { type: 'Date', columnType: 'timestamptz' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** Who changed an issue: a member (by API key) or the detector (re-analysis). */
export type IssueActor = 'member' | 'detector';
export type IssueField = 'status' | 'assignee';

/** One change of one field of an issue; the issue's history. Values are status names or emails. */
export class AnomalyIssueEvent {
  id: string = randomUUID();
  tenant!: Tenant;
  issue!: AnomalyIssue;
  actor!: IssueActor;
  actorMember: Member | null = null;
  /** The member's email at the time (kept when the member is removed later). */
  actorEmail: string | null = null;
  field!: IssueField;
  fromValue: string | null = null;
  toValue: string | null = null;
  at: Date = new Date();
}

export const AnomalyIssueEventSchema = new EntitySchema<AnomalyIssueEvent>({
  class: AnomalyIssueEvent,
  tableName: 'anomaly_issue_events',
  indexes: [{ properties: ['issue', 'at'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    issue: { kind: 'm:1', entity: () => AnomalyIssue, deleteRule: 'cascade', index: false },
    actor: { type: 'string', length: 16 },
    actorMember: { kind: 'm:1', entity: () => Member, nullable: true, deleteRule: 'set null', index: false },
    actorEmail: { type: 'string', length: 320, nullable: true },
    field: { type: 'string', length: 16 },
    fromValue: { type: 'text', nullable: true },
    toValue: { type: 'text', nullable: true },
    at: { type: 'Date', columnType: 'timestamptz' },
  },
});
