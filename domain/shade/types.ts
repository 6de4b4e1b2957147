// The contract between station-level detection (SHADE) and the code that feeds it and stores its
// results. The detector (robust baselines plus a learned daily-profile model) lives behind
// `ShadeDetector`; the worker injects it, so `domain/` never imports `models/`.

/** The station anomaly types SHADE reports (documented in docs/station-anomaly-types.md). */
export const STATION_ANOMALY_TYPES = ['outage', 'stuck_connector', 'energy_drop', 'unexplained_load', 'meter_drift'] as const;
export type StationAnomalyType = (typeof STATION_ANOMALY_TYPES)[number];

/** One charging session as the station-day sees it (minute offsets from the day's start, clipped to the day). */
export interface DaySession {
  startMinute: number;
  endMinute: number;
  /** Energy the session delivered within the day, from its register (Wh). */
  energyWh: number;
  /** Extension (optional): the session began before the day (its start is clipped). Default: startMinute is 0. */
  startedBefore?: boolean;
  /** Extension (optional): the session went on after the day (its end is clipped). Default: endMinute is the day's last minute. */
  endsAfter?: boolean;
}

/** One connector's day: arrays have one entry per minute of the local day (1440, or 1380/1500 on DST days). */
export interface ConnectorDay {
  connectorId: string;
  /** Energy per minute from the meter register (Wh). */
  energyWh: number[];
  /** Energy per minute implied by the reported power (Wh), or null for minutes without a power reading. */
  powerWh: (number | null)[];
  sessions: DaySession[];
}

/** What the station's own history says (previous days, newest first; at most 8 weeks). */
export interface HistoryDay {
  day: string;
  /** 0 = Sunday … 6 = Saturday, in the tenant's time zone. */
  weekday: number;
  /** Station total energy per local hour (Wh), 24 entries (23/25 on DST days). */
  hourlyWh: number[];
  /** Sessions started per local hour, same length. */
  sessionStarts: number[];
}

export interface StationDayInput {
  /** Opaque key the caller uses to match results (e.g. the station's row id). */
  stationKey: string;
  /** The local calendar day, YYYY-MM-DD. */
  day: string;
  weekday: number;
  /** The UTC instant of the local midnight that starts the day (ISO 8601). */
  dayStart: string;
  minutes: number;
  /** IANA time zone of the local day (extension, optional): affected periods then show local clock time on DST days. */
  timeZone?: string;
  connectors: ConnectorDay[];
  history: HistoryDay[];
}

/** The reference's `detectionDetails` plus documented extensions (`connector_id`, `findings`). */
export interface DetectionDetails {
  anomaly_type: StationAnomalyType | null;
  /** The affected day, or `YYYY-MM-DDTHH:MM/HH:MM` (local) when the finding covers part of it. */
  affected_period: string;
  expected_energy_kwh: number;
  actual_energy_kwh: number;
  connector_id?: string | null;
  /** Every finding of the day, strongest first (the top-level fields repeat the first). */
  findings?: StationFinding[];
}

/** One finding of a station-day; minutes are offsets from the day's start, both ends included. */
export interface StationFinding {
  anomaly_type: StationAnomalyType;
  connector_id: string | null;
  start_minute: number;
  end_minute: number;
  score: number;
  expected_energy_kwh: number;
  actual_energy_kwh: number;
}

export interface StationDayResult {
  stationKey: string;
  day: string;
  isAnomaly: boolean;
  /** 0–1: severity of the strongest finding. */
  anomalyScore: number;
  /** 0–1: how unusual the whole day is. */
  dayScore: number;
  detectionDetails: DetectionDetails;
  /** Minutes (0 … minutes-1) whose score passed the marker threshold, with their 0–1 scores. */
  markers: { startMinute: number; score: number }[];
}

export interface ShadeDetector {
  /** Names the robust-baseline rules and the learned model (stored with each result). */
  readonly modelVersion: string;
  detect(days: StationDayInput[]): Promise<StationDayResult[]>;
}
