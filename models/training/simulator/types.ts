// Public shapes of the charging simulator: sessions as a client would push them (OCPP meter values
// plus metadata) and the ground truth the generator knows about them.
import type { AnomalyCategory, RawMeterValue } from '../../../domain/analysis/types';

export type CurrentType = 'AC' | 'DC';
export type Measurand = 'energy' | 'power' | 'soc';

/**
 * Clean sessions built around one pattern the detector must stay quiet on (anomaly-categories.md,
 * "Not anomalies", and the non-anomalous quirks of ocpp-normalisation.md).
 */
export const LOOKALIKES = [
  'smart-charging-idle',
  'tapered-finish-idle',
  'load-management-steps',
  'shared-dc-cabinet',
  'one-phase-on-three-phase',
  'sparse-readings',
  'duplicates',
  'out-of-order',
  'wh-register',
  'per-phase-only',
  'utc-offset',
  'lifetime-register',
  'ocpp201-multiplier',
  'brief-pause',
  'long-session',
  // Revised contract (issue 14): how charging normally ends and what follows.
  'stop-at-limit',
  'overnight-idle',
  'wake-draw',
] as const;
export type Lookalike = (typeof LOOKALIKES)[number];

/**
 * One anomaly as a time range of reading instants. The anomaly's buckets (relative to the analysis
 * window, see truth.ts) are bucket(startMs) … bucket(endMs), inclusive. For register dips endMs is
 * 15 s before the first recovered reading, so that bucket(endMs) is "the last bucket before
 * recovery" as anomaly-categories.md words it.
 */
export interface TruthRange {
  category: AnomalyCategory;
  startMs: number;
  endMs: number;
  /** Injected magnitude in [0, 1]: 0 just past the rule's threshold, 1 blatant. */
  severity: number;
  /** How it was produced, e.g. 'reset-to-zero', 'w-as-kw', 'stall'. */
  variant: string;
}

export interface SessionTruth {
  /** Distinct categories present, in ANOMALY_CATEGORIES order. */
  categories: AnomalyCategory[];
  ranges: TruthRange[];
  /** No anomaly at all (look-alikes included). */
  clean: boolean;
  /** The look-alike pattern a clean session was built around, if any. */
  lookalike?: Lookalike;
}

/** What a client would send as session metadata. */
export interface SimMetadata {
  [key: string]: unknown;
  /** The connector's rating; bounds plausible power for the detector. */
  maxPowerKw: number;
  currentType: CurrentType;
  connectorType: string;
  ocppVersion: '1.6' | '2.0.1';
  stationPhases?: 1 | 3;
  sharedCabinet?: boolean;
}

/**
 * Behaviour families a session can show (several at once), for slices and the behaviour hold-out:
 * a smart-charging delay before charging starts, an AC car stopping flat at its charge limit, idle
 * for hours after charging (overnight), a short low-power draw after the stop, charging stopped and
 * resumed (brief pauses and stalls), load management stepping power down, a tapered finish.
 */
export const BEHAVIOURS = ['smart-delay', 'stop-at-limit', 'overnight', 'wake-draw', 'stall-resume', 'load-management', 'tapered-finish'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** How the session was generated, for stratified evaluation (not sent to the API). */
export interface SimProfile {
  current: CurrentType;
  /** Battery-electric or plug-in hybrid (ev-data.json `type`). */
  drive: 'bev' | 'phev';
  /** Behaviour families the session shows (BEHAVIOURS order). */
  behaviours: Behaviour[];
  stationKw: number;
  vehicleId: string;
  batteryKwh: number;
  /** AC phases the car charged on (DC: 0). */
  phasesUsed: number;
  measurands: Measurand[];
  /** Nominal sampling interval. */
  intervalMs: number;
  startMs: number;
  endMs: number;
  /** Sampling instants (each carries one value per measurand and phase). */
  samples: number;
  /** Energy delivered by the car's charging (kWh), whatever the register showed. */
  deliveredKwh: number;
  socStart: number | null;
  socEnd: number | null;
  /** Resolution of the register as sent, in kWh (decrease thresholds scale with it). */
  registerResolutionKwh: number;
  /** Non-anomalous traits present: 'per-phase', 'wh-unit', 'duplicates', 'utc-offset', … */
  quirks: string[];
}

export interface SimSession {
  id: string;
  stationId: string;
  connectorId: string;
  /** Vehicle model name from ev-data.json. */
  vehicle: string;
  metadata: SimMetadata;
  /** In arrival order (duplicates and late arrivals included). */
  meterValues: RawMeterValue[];
  truth: SessionTruth;
  profile: SimProfile;
}
