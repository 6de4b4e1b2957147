import { AnomalyIssueEventSchema, AnomalyIssueSchema } from './AnomalyIssue';
import { ApiKeySchema } from './ApiKey';
import { BatchItemSchema, BatchSchema } from './Batch';
import { ChargingSessionSchema, SessionAnomalySchema } from './ChargingSession';
import { ChargingStationSchema, ConnectorSchema } from './ChargingStation';
import { ExplanationSchema, LlmUsageSchema } from './Explanation';
import { InvitationSchema } from './Invitation';
import { MemberSchema } from './Member';
import { MeterValueSchema, SessionWriteSchema } from './MeterValue';
import { MlModelSchema } from './MlModel';
import { FineTuneJobSchema } from './FineTuneJob';
import { OrganizationSchema } from './Organization';
import { DataQualitySnapshotSchema, StatisticsSessionDaySchema } from './Statistics';
import { TenantSchema } from './Tenant';
import { WebhookAttemptSchema, WebhookDeliverySchema, WebhookEndpointSchema, WebhookEventSchema } from './Webhook';

export * from './AnomalyIssue';
export * from './ApiKey';
export * from './Batch';
export * from './ChargingSession';
export * from './ChargingStation';
export * from './Explanation';
export * from './Invitation';
export * from './Member';
export * from './MeterValue';
export * from './MlModel';
export * from './FineTuneJob';
export * from './Organization';
export * from './Statistics';
export * from './Tenant';
export * from './Webhook';

export const entitySchemas = [
  TenantSchema,
  OrganizationSchema,
  MemberSchema,
  InvitationSchema,
  ApiKeySchema,
  ChargingStationSchema,
  ConnectorSchema,
  ChargingSessionSchema,
  SessionAnomalySchema,
  MeterValueSchema,
  SessionWriteSchema,
  BatchSchema,
  BatchItemSchema,
  MlModelSchema,
  FineTuneJobSchema,
  WebhookEndpointSchema,
  WebhookEventSchema,
  WebhookDeliverySchema,
  WebhookAttemptSchema,
  ExplanationSchema,
  LlmUsageSchema,
  AnomalyIssueSchema,
  AnomalyIssueEventSchema,
  DataQualitySnapshotSchema,
  StatisticsSessionDaySchema,
];

/** Entities with a `tenant` relation: the ORM's tenant filter applies to every query on them. */
export const tenantOwnedEntities = ['WebhookEndpoint', 'WebhookEvent', 'WebhookDelivery', 'WebhookAttempt', 'Organization', 'Member', 'Invitation', 'ApiKey', 'ChargingStation', 'Connector', 'ChargingSession', 'SessionAnomaly', 'MeterValue', 'SessionWrite', 'Batch', 'BatchItem', 'MlModel', 'FineTuneJob', 'Explanation', 'LlmUsage', 'AnomalyIssue', 'AnomalyIssueEvent', 'DataQualitySnapshotRow', 'StatisticsSessionDay'];

/** Tenant-owned entities that also have shared rows (tenant null) every tenant may read. */
export const sharedWithAllTenants = ['MlModel'];
