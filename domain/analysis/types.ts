// Shared types of the analysis pipeline: OCPP meter values in, a session verdict out.
// Pure data: used by the API (validation), activities (analysis) and tests alike.

/** One meter value as the client sent it (after the API has mapped snake_case aliases). */
export interface RawMeterValue {
  /** ISO 8601 with any UTC offset. */
  timestamp: string;
  value: number;
  measurand?: string | null;
  unit?: string | null;
  phase?: string | null;
  location?: string | null;
  context?: string | null;
  format?: string | null;
  /** OCPP 2.0.1 unitOfMeasure.multiplier: the value is value × 10^multiplier in `unit`. */
  multiplier?: number | null;
  reconstructed?: boolean;
}

/** A stored meter value: the raw one plus its arrival order (later arrival wins a conflict). */
export interface StoredMeterValue extends RawMeterValue {
  /** Monotonic per session: the order in which the service received the readings. */
  seq: number;
}

export interface ValidationIssue {
  /** Index in the request's meterValues array. */
  index: number;
  field: keyof RawMeterValue;
  message: string;
}

/** A time series in epoch milliseconds, sorted, one value per timestamp. */
export interface Series {
  t: number[];
  v: number[];
}

/** Data-quality findings of normalisation, kept per session for statistics. */
export interface DataQuality {
  /** Exact duplicates collapsed (same timestamp, measurand, phase, location and value). */
  duplicates: number;
  /** Same key, different value: the later arrival was kept. */
  conflicts: number;
  /** Readings that arrived out of timestamp order. */
  outOfOrder: number;
  /** Units that look wrong (e.g. a kWh register labelled Wh); analysed as sent. */
  suspiciousUnits: number;
  /** Clock problems short of rejection (e.g. readings milliseconds apart, far-apart offsets). */
  clockIssues: number;
  /** Readings ignored because their measurand/unit is not used by the analysis. */
  ignored: number;
  /** Human-readable notes, one per kind of finding. */
  notes: string[];
}

export interface NormalisedSession {
  /** Energy.Active.Import.Register in kWh. */
  energy: Series;
  /** Power.Active.Import in kW (total over phases). */
  power: Series;
  /** SoC in percent. */
  soc: Series;
  quality: DataQuality;
}

export type AnomalyCategory =
  | 'ZERO_SESSION'
  | 'KWH_DECREASE'
  | 'ENERGY_PIT'
  | 'UNEXPECTED_KWH_ACCUMULATE'
  | 'INCORRECT_ACTIVE_POWER_REGISTER'
  | 'UNEXPECTED_CHARGE_LEVEL_CHANGES'
  | 'CHARGING_EXPECTED';

export const ANOMALY_CATEGORIES: AnomalyCategory[] = [
  'ZERO_SESSION',
  'KWH_DECREASE',
  'ENERGY_PIT',
  'UNEXPECTED_KWH_ACCUMULATE',
  'INCORRECT_ACTIVE_POWER_REGISTER',
  'UNEXPECTED_CHARGE_LEVEL_CHANGES',
  'CHARGING_EXPECTED',
];

export interface Anomaly {
  category: AnomalyCategory;
  /** Severity in [0, 1]. */
  score: number;
  /** Calibrated confidence in [0, 1]. */
  confidence: number;
  /** Inclusive, 0-based 15-second bucket indexes from the window start t0. */
  bucketRange: { startUnit: number; endUnit: number };
  /** t0 + 15 s·startUnit to t0 + 15 s·(endUnit + 1), ISO 8601 UTC with Z. */
  timeRange: { startTimestamp: string; endTimestamp: string };
}

/** The analysis window: at most the last 6 hours, cut into 15-second buckets from t0. */
export interface AnalysisWindow {
  t0: number;
  tEnd: number;
  bucketCount: number;
  energy: Series;
  power: Series;
  soc: Series;
  /** True when readings before the last 6 hours were dropped. */
  truncated: boolean;
  /**
   * What the dropped readings showed: `ZERO_SESSION` is judged over all readings received, not only
   * the window (anomaly-categories.md). Zeros when nothing was dropped.
   */
  before: { deliveredKwh: number; charged: boolean };
}

export interface DetectorInput {
  window: AnalysisWindow;
  /** Client metadata, e.g. a station rating (`maxPowerKw`) that bounds plausible power. */
  metadata?: Record<string, unknown> | null;
}

/** What learned models (ONNX) and the physics rules both implement. */
export interface Detector {
  readonly name: string;
  readonly version: string;
  detect(input: DetectorInput): Anomaly[];
}

/**
 * SORC's SoC trajectory for a session without (enough) SoC readings: an overlay for display, never
 * fed back into the readings the detectors analyse.
 */
export interface SocOverlay {
  socReconstructed: boolean;
  /** One point per 15-second bucket that has an energy or power reading. */
  reconstructedSoc: SocPoints;
  /** Set only when reconstructedSoc has points. */
  sorcConfidence: number | null;
}

/**
 * SoC points on the analysis window's bucket grid, kept (and stored) compactly: point i is at
 * t0 + buckets[i] × 15 s with SoC values[i] percent. A list of timestamped objects was 2.6 kB of
 * JSON per session and most of the cost of storing a verdict; `socPointList` makes that list for
 * the API.
 */
export interface SocPoints {
  t0: number;
  buckets: number[];
  values: number[];
  /** Half-width (points) of the calibrated 80 % band around values[i]; absent in overlays stored before it. */
  band?: number[];
}

export interface DetectorOutput {
  anomalies: Anomaly[];
  soc?: SocOverlay;
}

/**
 * A detector that scores several sessions per call (the ONNX models run asynchronously and are
 * cheaper per session in batches). `detectMany(inputs)[i]` belongs to `inputs[i]`.
 */
export interface BatchDetector {
  readonly name: string;
  readonly version: string;
  detectMany(inputs: DetectorInput[]): Promise<DetectorOutput[]>;
}

/**
 * Which detector analyses a tenant's sessions: the served base models, or the tenant's own once
 * it has fine-tuned ones. The worker creates it and hands it to the activities.
 */
export interface DetectorRegistry {
  forTenant(tenantId: string): Promise<BatchDetector>;
}

export type AnalysisResult =
  | { status: 'pending'; message: string; quality: DataQuality; readingCount: number }
  | {
      status: 'active';
      isAnomaly: boolean;
      anomalyScore: number;
      anomalyConfidence: number;
      anomalies: Anomaly[];
      quality: DataQuality;
      window: { t0: string; tEnd: string; bucketCount: number; truncated: boolean };
      readingCount: number;
      detector: string;
      message: string | null;
      /** Present when the detector reconstructs SoC (learned models). */
      soc?: SocOverlay;
    };
