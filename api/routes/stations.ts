// Station endpoints: HTTP only; the reads are in domain/stations/queries.ts. `/v1/stations/lookup`
// is listed before `/v1/stations/{charging_station_id}` (a literal segment wins either way, see
// `resolveResource`, but the router matches in order).
import {
  findStation,
  latestInference,
  listInferences,
  listStations,
  lookupStations,
  presentInference,
  shadeOverview,
  stationConnectors,
  stationDetail,
  stationEnergy,
} from '../../domain/stations/queries';
import { defineRoute } from '../route';
import { ErrorSchema, LimitedPaginationQuery, pageOf, pageOfQuery, toPage } from '../schemas/common';
import {
  ShadeOverviewOut,
  ShadeOverviewQuery,
  StationConnectorsOut,
  StationDetailOut,
  StationEnergyOut,
  StationEnergyQuery,
  StationIdParams,
  StationInferenceOut,
  StationListItem,
  StationListQuery,
  StationLookupOut,
} from '../schemas/stations';

const notFound = { 404: { description: 'No such station in this tenant', schema: ErrorSchema } };
const tags = ['Stations'];

export const stationRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/stations',
    summary: 'List stations',
    description:
      "The tenant's charging stations with their anomalous-session count (`totalAnomalies`), highest session anomaly score (`aiScore`) and latest anomalous session (`lastAnomalyDate`), " +
      'computed when asked (no materialized view). Sorted by station id unless `sortByAnomalies` / `sortByScore` say otherwise (anomalies first when both are sent).',
    tags,
    query: StationListQuery,
    responses: { 200: { description: 'A page of stations', schema: pageOf(StationListItem, 'StationPage') } },
    handler: async ({ em, auth, query }) => {
      const page = pageOfQuery(query);
      const { items, total } = await listStations(em, auth.tenant.id, { ...query, ...page });
      return { body: toPage(items, total, page) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/lookup',
    summary: 'Lookup station ids',
    description: 'Distinct station identifiers of this tenant, for filter dropdowns.',
    tags,
    responses: { 200: { description: 'Station identifiers', schema: StationLookupOut } },
    handler: async ({ em, auth }) => ({ body: { items: await lookupStations(em, auth.tenant.id) } }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}',
    summary: 'Get station detail',
    description: 'Sessions and anomalous sessions at the station and per connector. `metadata` is always null: no endpoint receives station metadata.',
    tags,
    params: StationIdParams,
    responses: { 200: { description: 'The station', schema: StationDetailOut }, ...notFound },
    handler: async ({ em, auth, params }) => ({ body: await stationDetail(em, auth.tenant.id, await findStation(em, auth.tenant.id, params.charging_station_id)) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}/connectors',
    summary: 'Get station connectors',
    description: 'Per connector: sessions, anomalous sessions and sessions per anomaly category.',
    tags,
    params: StationIdParams,
    responses: { 200: { description: 'The connectors', schema: StationConnectorsOut }, ...notFound },
    handler: async ({ em, auth, params }) => {
      const station = await findStation(em, auth.tenant.id, params.charging_station_id);
      return { body: { chargingStationId: station.stationId, connectors: await stationConnectors(em, auth.tenant.id, station) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}/energy',
    summary: 'Get station energy',
    description:
      'Hourly energy (kWh) of the station and of each connector over a window of 7 days (168 hours, every hour listed) ending at `dateTo` (exclusive, rounded up to the hour). ' +
      "Without `dateTo` the window ends with the day of the `anomalyId` result, or else after the station's last hour with energy (now when it has none). " +
      '`anomalyOccurrences` are the starts of the findings of anomalous SHADE results within the window (with `anomalyId`: that result\'s). ' +
      'Read from the hourly rollup kept as sessions are analysed (UTC hours). `dateFrom` and `dateTo` in the answer are extensions.',
    tags,
    params: StationIdParams,
    query: StationEnergyQuery,
    responses: { 200: { description: 'Energy timelines', schema: StationEnergyOut }, 404: { description: 'No such station, or no such SHADE result of it (`anomalyId`)', schema: ErrorSchema } },
    handler: async ({ em, auth, params, query }) => ({
      body: await stationEnergy(em, auth.tenant.id, await findStation(em, auth.tenant.id, params.charging_station_id), query),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}/inference',
    summary: 'Get station inference',
    description: 'The latest SHADE result of the station (its latest analysed day; the latest run of it). 404 when SHADE has not analysed the station yet.',
    tags,
    params: StationIdParams,
    responses: { 200: { description: 'The latest SHADE result', schema: StationInferenceOut }, 404: { description: 'No such station, or no SHADE result yet', schema: ErrorSchema } },
    handler: async ({ em, auth, params }) => {
      const station = await findStation(em, auth.tenant.id, params.charging_station_id);
      return { body: presentInference(station, await latestInference(em, auth.tenant.id, station)) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}/anomalies',
    summary: 'List station anomalies',
    description: 'The station\'s SHADE results, newest day first (anomalous or not: `isAnomaly` says which).',
    tags,
    params: StationIdParams,
    query: LimitedPaginationQuery,
    responses: { 200: { description: 'A page of SHADE results', schema: pageOf(StationInferenceOut, 'StationInferencePage') }, ...notFound },
    handler: async ({ em, auth, params, query }) => {
      const station = await findStation(em, auth.tenant.id, params.charging_station_id);
      const page = pageOfQuery(query);
      const { items, total } = await listInferences(em, auth.tenant.id, station, page);
      return { body: toPage(items, total, page) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/stations/{charging_station_id}/shade-overview',
    summary: 'Get SHADE overview',
    description:
      "The latest analysed day (or `day`, an extension): cumulative kWh at every minute of the station's local day from the per-minute rollup, " +
      "the SHADE markers (minute of the day, its instant, score) and the day's score. 404 when SHADE has no result for the station (or that day).",
    tags,
    params: StationIdParams,
    query: ShadeOverviewQuery,
    responses: { 200: { description: 'The overview', schema: ShadeOverviewOut }, 404: { description: 'No such station, or no SHADE result', schema: ErrorSchema } },
    handler: async ({ em, auth, params, query }) => ({
      body: await shadeOverview(em, auth.tenant.id, await findStation(em, auth.tenant.id, params.charging_station_id), query.day),
    }),
  }),
];
