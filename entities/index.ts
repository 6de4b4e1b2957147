import { ApiKeySchema } from './ApiKey';
import { BatchItemSchema, BatchSchema } from './Batch';
import { ChargingSessionSchema, SessionAnomalySchema } from './ChargingSession';
import { ChargingStationSchema, ConnectorSchema } from './ChargingStation';
import { MeterValueSchema, SessionWriteSchema } from './MeterValue';
import { MlModelSchema } from './MlModel';
import { TenantSchema } from './Tenant';

export * from './ApiKey';
export * from './Batch';
export * from './ChargingSession';
export * from './ChargingStation';
export * from './MeterValue';
export * from './MlModel';
export * from './Tenant';

export const entitySchemas = [
  TenantSchema,
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
];

/** Entities with a `tenant` relation: the ORM's tenant filter applies to every query on them. */
export const tenantOwnedEntities = ['ApiKey', 'ChargingStation', 'Connector', 'ChargingSession', 'SessionAnomaly', 'MeterValue', 'SessionWrite', 'Batch', 'BatchItem', 'MlModel'];

/** Tenant-owned entities that also have shared rows (tenant null) every tenant may read. */
export const sharedWithAllTenants = ['MlModel'];
