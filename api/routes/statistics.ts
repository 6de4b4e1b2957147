// `GET /v1/statistics`: HTTP only; the figures come from domain/statistics/ (definitions in the README).
import { loadDataQuality } from '../../domain/statistics/data-quality';
import { statisticsFor } from '../../domain/statistics/summary';
import { defineRoute } from '../route';
import { presentStatistics, StatisticsOut, StatisticsQuery } from '../schemas/statistics';

export const statisticsRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/statistics',
    summary: 'Get statistics',
    description:
      "The tenant's figures for a period: anomaly counts (anomalies whose occurrence in the readings is in [occurrenceFrom, occurrenceTo)), sessions that started in it, " +
      "revenue from the organization's energy price, connector uptime and its change against the period of equal length before, and the data-quality snapshot " +
      'of the scheduled data-quality workflow (null until its first run). Without bounds: all time (uptime from the first session to now); ' +
      'bounds that leave no time between them (as in the session list) are an empty period. ' +
      'Extensions: the 001 figures in camelCase (`totalStations`, `anomalousSessions`, `stationsWithAnomalies`, `anomalyRate`), `totalEnergyKwh`, `energyPrice`, `currency`, `uptimePeriod`.',
    tags: ['Statistics'],
    query: StatisticsQuery,
    responses: { 200: { description: 'The statistics', schema: StatisticsOut } },
    handler: async ({ em, auth, query }) => {
      const [stats, dataQuality] = await Promise.all([
        statisticsFor(em, auth.tenant.id, { from: query.occurrenceFrom, to: query.occurrenceTo }, new Date()),
        loadDataQuality(em, auth.tenant.id),
      ]);
      return { body: presentStatistics(stats, dataQuality) };
    },
  }),
];
