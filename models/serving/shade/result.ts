// From the findings of a station-day to the result the API stores and shows (domain/shade/types.ts):
// the strongest finding on top, every finding in `findings`, minute markers, dayScore.
import type { StationDayInput, StationDayResult } from '../../../domain/shade/types';
import { localClock } from '../../../domain/stations/local-day';
import type { DayAnalysis, Finding } from './rules';

/** A minute is marked when its score reaches this. */
export const MARKER_THRESHOLD = 0.5;

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function clock(day: StationDayInput, minute: number): string {
  if (minute >= day.minutes) return '24:00';
  if (day.timeZone) return localClock(Date.parse(day.dayStart) + minute * 60_000, day.timeZone);
  // Without a zone the minute offset is the clock time (exact on every day but the two DST days).
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** The day, or `YYYY-MM-DDTHH:MM/HH:MM` (local, end exclusive) when the range covers part of it. */
export function affectedPeriod(day: StationDayInput, start: number, end: number): string {
  if (start <= 0 && end >= day.minutes - 1) return day.day;
  return `${day.day}T${clock(day, start)}/${clock(day, end + 1)}`;
}

/**
 * `dayScore` is the day's score before the findings (the learned model's, or the rules' deviation of
 * the day total without it); the result's dayScore is at least the strongest finding's score.
 * `minuteScore` (optional) is a per-minute 0–1 score from the learned model; it raises markers only
 * inside the findings' ranges, so a marker always belongs to a finding whose condition holds.
 */
export function toResult(day: StationDayInput, analysis: DayAnalysis, dayScore: number, minuteScore?: Float32Array | null): StationDayResult {
  const { findings } = analysis;
  const n = day.minutes;
  const scores = new Float32Array(n);
  for (const f of findings) {
    for (let m = Math.max(0, f.start_minute); m <= Math.min(n - 1, f.end_minute); m++) {
      const s = minuteScore ? Math.max(f.score, Math.min(1, minuteScore[m])) : f.score;
      if (s > scores[m]) scores[m] = s;
    }
  }
  const markers: { startMinute: number; score: number }[] = [];
  for (let m = 0; m < n; m++) if (scores[m] >= MARKER_THRESHOLD) markers.push({ startMinute: m, score: round4(scores[m]) });
  const top: Finding | undefined = findings[0];
  const anomalyScore = top ? top.score : 0;
  const expectedDay = analysis.baseline ? analysis.baseline.dayWh : analysis.dayWh;
  return {
    stationKey: day.stationKey,
    day: day.day,
    isAnomaly: findings.length > 0,
    anomalyScore: round4(anomalyScore),
    dayScore: round4(Math.max(dayScore, anomalyScore)),
    detectionDetails: {
      anomaly_type: top ? top.anomaly_type : null,
      affected_period: top ? affectedPeriod(day, top.start_minute, top.end_minute) : day.day,
      expected_energy_kwh: top ? top.expected_energy_kwh : Math.round(expectedDay) / 1000,
      actual_energy_kwh: top ? top.actual_energy_kwh : Math.round(analysis.dayWh) / 1000,
      connector_id: top ? top.connector_id : null,
      findings: findings.map((f) => ({ ...f, score: round4(f.score) })),
    },
    markers,
  };
}
