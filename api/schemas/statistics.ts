// `GET /v1/statistics`: the reference's (`002`) figures, the `001` figures as camelCase extensions,
// and the stored data-quality snapshot. The definitions are in the README ("Statistics").
import type { Statistics } from '../../domain/statistics/summary';
import { QUALITY_FLAGS, type DataQualitySnapshot } from '../../domain/statistics/data-quality';
import { filterTime, iso, timestampOut } from './common';
import { z } from '../zod';

export const StatisticsQuery = z.object({
  occurrenceFrom: filterTime('Anomalies that occurred, and sessions that started, at or after this time').optional(),
  occurrenceTo: filterTime('… before this time').optional(),
});

const count = (description: string) => z.number().int().min(0).openapi({ description });
const money = (description: string) => z.number().min(0).openapi({ description });
const ext = (text: string) => `Extension (not in the reference): ${text}`;

const FlagSummaryOut = z
  .object({
    sessions: count('Checked sessions with at least one finding of this kind'),
    rate: z.number().min(0).max(1).openapi({ description: '`sessions` ÷ the range\'s `checkedSessions` (0 without any)' }),
    readings: count('Readings concerned, summed over the sessions'),
  })
  .openapi('DataQualityFlagSummary');

const RangeSnapshotOut = z
  .object({
    from: timestampOut('Start of the range (the end is `generatedAt`)').nullable(),
    totalSessions: count('Sessions whose first reading (or creation, without readings) is in the range'),
    checkedSessions: count('Of those, sessions whose readings were normalised and checked: the rates\' denominator'),
    sessionsWithIssues: count('Checked sessions with at least one finding of any kind'),
    issueRate: z.number().min(0).max(1),
    pendingSessions: count('Sessions left pending (fewer than 3 usable readings)'),
    failedSessions: count('Sessions whose analysis failed'),
    flags: z.object(Object.fromEntries(QUALITY_FLAGS.map((f) => [f, FlagSummaryOut])) as Record<(typeof QUALITY_FLAGS)[number], typeof FlagSummaryOut>),
  })
  .openapi('DataQualityRange');

const DataQualityOut = z
  .object({
    generatedAt: timestampOut('When the scheduled data-quality workflow computed this snapshot'),
    ranges: z
      .object({ '7d': RangeSnapshotOut.nullable(), '30d': RangeSnapshotOut.nullable(), all: RangeSnapshotOut.nullable() })
      .openapi({ description: 'Three named time-window snapshots, each ending at `generatedAt`' }),
  })
  .openapi('DataQualitySummary');

export const StatisticsOut = z
  .object({
    activeAnomaliesCount: count('Active anomalies (issues OPEN or IN_PROGRESS) that occurred in the period'),
    sessionsWithAnomaliesCount: count('Sessions with at least one standing anomaly in the period (not a false positive, not withdrawn by a re-analysis)'),
    connectorsWithAnomaliesCount: count('Connectors with at least one standing anomaly in the period (a session without a connector id counts as one unknown connector of its station)'),
    totalAnomaliesCount: count('Standing anomalies in the period: open, in progress, or resolved by a member'),
    chargingStationsWithAnomaliesCount: count('Charging stations with at least one standing anomaly in the period'),
    uptimePercentage: z.number().min(0).max(100).openapi({
      description: 'Share of connector-time in the period not blocked by a fault (from a session\'s first ZERO_SESSION or CHARGING_EXPECTED anomaly until the connector\'s next session; one interval per session), in percent',
    }),
    uptimeDelta: z.number().min(-100).max(100).openapi({ description: 'uptimePercentage minus that of the period of equal length just before, in percentage points' }),
    totalSessions: count('Sessions that started in the period'),
    totalRevenue: money('Delivered kWh of the period\'s sessions × the organization\'s energyPrice (0 without a price)'),
    revenueAtRisk: money('Delivered kWh of the sessions with an active anomaly in the period × energyPrice'),
    revenueLeakEstimate: money('Energy delivered but not billed by the register\'s difference (sessions with a standing KWH_DECREASE anomaly) × energyPrice'),
    dataQuality: DataQualityOut.nullable().openapi({ description: 'Data quality summary across 7d/30d/all ranges, computed by the scheduled data-quality workflow; null until its first run' }),
    totalStations: count(ext('all charging stations of the tenant (001 `total_stations`)')),
    anomalousSessions: count(ext('sessions of the period whose latest verdict is anomalous (001 `anomalous_sessions`)')),
    stationsWithAnomalies: count(ext('as chargingStationsWithAnomaliesCount (001 `stations_with_anomalies`)')),
    anomalyRate: z.number().min(0).max(1).openapi({ description: ext('anomalousSessions ÷ totalSessions, 0.0–1.0 (001 `anomaly_rate`)') }),
    totalEnergyKwh: z.number().min(0).openapi({ description: ext('delivered kWh of the period\'s sessions (the basis of totalRevenue)') }),
    energyPrice: z.number().min(0).nullable().openapi({ description: ext('the organization\'s price per kWh used; null: no price set, every revenue figure is 0') }),
    currency: z.string().nullable().openapi({ description: ext('ISO 4217 currency of the revenue figures; null without a price') }),
    uptimePeriod: z
      .object({ from: timestampOut(), to: timestampOut() })
      .nullable()
      .openapi({ description: ext('the period uptime was computed over: occurrenceFrom (default: the first session) to occurrenceTo (default: now); null without sessions') }),
  })
  .openapi('StatisticsResponse');

export function presentStatistics(s: Statistics, dataQuality: DataQualitySnapshot | null): z.infer<typeof StatisticsOut> {
  const { uptimePeriod, ...figures } = s;
  return {
    ...figures,
    dataQuality: dataQuality && {
      generatedAt: iso(new Date(dataQuality.generatedAt))!,
      ranges: {
        '7d': presentRange(dataQuality.ranges['7d']),
        '30d': presentRange(dataQuality.ranges['30d']),
        all: presentRange(dataQuality.ranges.all),
      },
    },
    uptimePeriod: uptimePeriod && { from: iso(uptimePeriod.from)!, to: iso(uptimePeriod.to)! },
  };
}

function presentRange(r: DataQualitySnapshot['ranges']['all']) {
  return r && { ...r, from: r.from === null ? null : iso(new Date(r.from)) };
}
