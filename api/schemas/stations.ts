// Station request and response schemas (the reference's `002` shapes). Fields the reference does
// not have are marked as extensions in their descriptions.
import { STATION_ANOMALY_TYPES } from '../../domain/shade/types';
import { ENERGY_WINDOW_HOURS } from '../../domain/stations/queries';
import { filterTime, LimitedPaginationQuery, text, timestampOut, vocabulary } from './common';
import { z } from '../zod';

export const StationIdParams = z.object({
  charging_station_id: text(200, 1).openapi({ description: "The client's station identifier (`chargingStationId` of its sessions)" }),
});

const order = (what: string) =>
  vocabulary(['asc', 'desc'] as const, 'expected asc or desc').optional().openapi({ description: `Sort by ${what}: asc or desc` });

export const StationListQuery = LimitedPaginationQuery.extend({
  ocppChargingStationId: text(200).optional().openapi({ description: 'Only the station with this identifier (exact match). Also accepted as `ocpp_charging_station_id`.' }),
  occurrenceFrom: filterTime('Stations whose latest anomalous session started at or after this time').optional(),
  occurrenceTo: filterTime('Stations whose latest anomalous session started before this time').optional(),
  sortByAnomalies: order('total anomalous sessions (then by station id)'),
  sortByScore: order('highest session anomaly score (stations without one last)'),
});

export const StationListItem = z
  .object({
    id: z.string().openapi({ description: 'The station row id' }),
    chargingStationId: z.string(),
    ocppChargingStationId: z.string().openapi({ description: 'The same identifier as `chargingStationId` (the OCPP charge point id the client sends)' }),
    totalAnomalies: z.number().int().min(0).openapi({ description: 'Sessions at this station with a detected anomaly' }),
    aiScore: z.number().min(0).max(1).nullable().openapi({ description: 'Highest anomaly score of those sessions (null: none)' }),
    lastAnomalyDate: timestampOut('Start of the latest anomalous session').nullable(),
  })
  .openapi('StationListItem');

export const StationLookupOut = z.object({ items: z.array(z.string()).openapi({ description: 'Distinct station identifiers of this tenant, sorted' }) }).openapi('StationLookup');

const ConnectorCounts = z.object({
  connectorId: z.string(),
  totalSessions: z.number().int().min(0),
  anomalousSessions: z.number().int().min(0),
});

export const StationDetailOut = z
  .object({
    chargingStationId: z.string(),
    totalSessions: z.number().int().min(0),
    anomalousSessions: z.number().int().min(0),
    connectors: z.array(ConnectorCounts.openapi('StationConnectorSummary')),
    metadata: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'Station metadata. Always null here: no endpoint of this API receives station metadata (sessions carry only their own).' }),
  })
  .openapi('StationDetail');

export const StationConnectorsOut = z
  .object({
    chargingStationId: z.string(),
    connectors: z.array(
      ConnectorCounts.extend({
        anomalyCategories: z.record(z.string(), z.number().int().min(0)).openapi({ description: 'Sessions per anomaly category (e.g. KWH_DECREASE: 2)' }),
      }).openapi('StationConnector'),
    ),
  })
  .openapi('StationConnectors');

export const StationEnergyQuery = z.object({
  dateTo: filterTime(`End of the window (exclusive, rounded up to the hour); the window is the ${ENERGY_WINDOW_HOURS} hours before it`).optional(),
  anomalyId: z.uuid().optional().openapi({ description: "A SHADE result of this station (`inferenceId`): without `dateTo`, the window ends with that result's day, and its findings are the occurrences" }),
});

const EnergyPoint = z.object({ timestamp: timestampOut('Start of the hour (UTC)'), energy: z.number().min(0).openapi({ description: 'kWh delivered in the hour' }) }).openapi('EnergyPoint');

export const StationEnergyOut = z
  .object({
    chargingStationId: z.string(),
    dateFrom: timestampOut('Start of the window (extension)'),
    dateTo: timestampOut('End of the window, exclusive (extension)'),
    energyDelivered: z.number().min(0).openapi({ description: 'kWh delivered at the station within the window' }),
    energyConsumptionStation: z.array(EnergyPoint).openapi({ description: 'The station per hour, every hour of the window' }),
    energyConsumptionConnectors: z.array(z.object({ connectorId: z.string(), energy: z.array(EnergyPoint) }).openapi('ConnectorEnergy')),
    anomalyOccurrences: z.array(timestampOut()).openapi({ description: 'Where the findings of anomalous SHADE results within the window start' }),
  })
  .openapi('StationEnergy');

const Finding = z.object({
  anomaly_type: z.enum(STATION_ANOMALY_TYPES),
  connector_id: z.string().nullable(),
  start_minute: z.number().int(),
  end_minute: z.number().int(),
  score: z.number(),
  expected_energy_kwh: z.number(),
  actual_energy_kwh: z.number(),
});

export const DetectionDetailsOut = z
  .object({
    anomaly_type: z.enum(STATION_ANOMALY_TYPES).nullable(),
    affected_period: z.string(),
    expected_energy_kwh: z.number(),
    actual_energy_kwh: z.number(),
    connector_id: z.string().nullable().optional().openapi({ description: 'The connector of the strongest finding (extension)' }),
    findings: z.array(Finding).optional().openapi({ description: 'Every finding of the day, strongest first (extension)' }),
  })
  .openapi('StationDetectionDetails');

export const StationInferenceOut = z
  .object({
    inferenceId: z.string().openapi({ description: 'The result id (extension on /inference; `anomalyId` of /energy)' }),
    chargingStationId: z.string(),
    isAnomaly: z.boolean(),
    anomalyScore: z.number().min(0).max(1),
    dayScore: z.number().min(0).max(1).openapi({ description: 'How unusual the whole day is (extension)' }),
    day: z.string().openapi({ format: 'date', description: "The analysed day, in the organization's time zone (extension)" }),
    modelVersion: z.string().openapi({ description: 'SHADE rules and model version (extension)' }),
    detectionDetails: DetectionDetailsOut,
    analyzedAt: timestampOut(),
  })
  .openapi('StationInference');

export const ShadeOverviewQuery = z.object({
  day: z.iso.date().optional().openapi({ description: 'The analysed day (YYYY-MM-DD, local) to show instead of the latest (extension)' }),
});

export const ShadeOverviewOut = z
  .object({
    chargingStationId: z.string(),
    inferenceId: z.string().openapi({ description: 'The SHADE result shown (extension)' }),
    day: z.string().openapi({ format: 'date', description: 'The analysed local day (extension)' }),
    dayScore: z.number().min(0).max(1),
    isAnomaly: z.boolean(),
    energyTimeline: z
      .array(z.object({ timestamp: timestampOut(), cumulativeKwh: z.number().min(0) }))
      .openapi({ description: 'Cumulative kWh at the start of every minute of the day and at its end' }),
    anomalyMarkers: z.array(
      z.object({ startMinute: z.number().int().min(0).max(1499), timestamp: timestampOut(), score: z.number().min(0).max(1) }).openapi('ShadeMarker'),
    ),
    analyzedAt: timestampOut(),
  })
  .openapi('ShadeOverview');
