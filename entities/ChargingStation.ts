import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

/** A charging station, created on first sight of its id in a session. */
export class ChargingStation {
  id: string = randomUUID();
  tenant: Tenant;
  /** The client's identifier (OCPP chargePointId / chargingStationId). */
  stationId: string;
  createdAt: Date = new Date();

  constructor(tenant: Tenant, stationId: string) {
    this.tenant = tenant;
    this.stationId = stationId;
  }
}

export const ChargingStationSchema = new EntitySchema<ChargingStation>({
  class: ChargingStation,
  tableName: 'charging_stations',
  uniques: [{ properties: ['tenant', 'stationId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    stationId: { type: 'string', length: 200 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** A connector of a station (with its EVSE id when the client sends one). */
export class Connector {
  id: string = randomUUID();
  tenant: Tenant;
  station: ChargingStation;
  connectorId: string;
  evseId: string | null = null;
  createdAt: Date = new Date();

  constructor(tenant: Tenant, station: ChargingStation, connectorId: string) {
    this.tenant = tenant;
    this.station = station;
    this.connectorId = connectorId;
  }
}

export const ConnectorSchema = new EntitySchema<Connector>({
  class: Connector,
  tableName: 'connectors',
  uniques: [{ properties: ['station', 'connectorId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    station: { kind: 'm:1', entity: () => ChargingStation, deleteRule: 'cascade' },
    connectorId: { type: 'string', length: 100 },
    evseId: { type: 'string', length: 200, nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});
