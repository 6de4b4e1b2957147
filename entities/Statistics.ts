import { EntitySchema } from '@mikro-orm/core';
import type { DataQualitySnapshot } from '../domain/statistics/data-quality';
import { Tenant } from './Tenant';

/**
 * A tenant's latest data-quality snapshot (`dataQuality` of GET /v1/statistics), written by the
 * scheduled data-quality workflow (domain/statistics/data-quality.ts, with SQL); the entity is for reads.
 */
export class DataQualitySnapshotRow {
  tenant!: Tenant;
  generatedAt!: Date;
  ranges!: DataQualitySnapshot['ranges'];
}

export const DataQualitySnapshotSchema = new EntitySchema<DataQualitySnapshotRow>({
  class: DataQualitySnapshotRow,
  tableName: 'data_quality_snapshots',
  properties: {
    tenant: { kind: 'm:1', entity: () => Tenant, primary: true, deleteRule: 'cascade' },
    generatedAt: { type: 'Date', columnType: 'timestamptz' },
    ranges: { type: 'json' },
  },
});

/**
 * One delta of the daily session rollup (sessions, anomalous sessions and delivered kWh of one
 * tenant and UTC day of occurrence), appended by triggers on charging_sessions and folded by the
 * scheduled run (domain/statistics/rollups.ts); the entity is for reads.
 */
export class StatisticsSessionDay {
  id!: string;
  tenant!: Tenant;
  day!: string;
  sessions!: string;
  anomalous!: string;
  deliveredKwh!: number;
}

export const StatisticsSessionDaySchema = new EntitySchema<StatisticsSessionDay>({
  class: StatisticsSessionDay,
  tableName: 'statistics_session_days',
  indexes: [{ name: 'statistics_session_days_tenant_day_index', properties: ['tenant', 'day'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    day: { type: 'date' },
    sessions: { type: 'bigint' },
    anomalous: { type: 'bigint' },
    deliveredKwh: { type: 'double' },
  },
});
