// From per-bucket category probabilities (CSAR-C-2) to Anomaly objects: runs of buckets above a
// per-category threshold become bucket ranges, the run's peak probability is mapped to a calibrated
// confidence, and the reconstruction error of CSAR-2 over the range feeds the severity score.
// The thresholds and the confidence maps are fitted on a validation corpus by models/calibrate.ts
// (never on the held-out evaluation corpus) and shipped as models/artifacts/postprocess.json.
import { ANOMALY_CATEGORIES, type Anomaly, type AnomalyCategory } from '../../domain/analysis/types';
import { timeRangeOf } from '../../domain/analysis/window';
import { FEATURE_VERSION } from './features';
import type { SorcCalibration } from './sorc';

export interface RunRule {
  /** A bucket belongs to a range when its probability is at least this. */
  threshold: number;
  /** A range is reported when its peak probability is at least this (≥ threshold). */
  peak: number;
  /** Ranges this many buckets apart or closer are one range. */
  gap: number;
}

/** Monotone map (isotonic regression) from a run's peak probability to P(the run is real). */
export interface ConfidenceMap {
  /** Ascending peak probabilities… */
  x: number[];
  /** …and the calibrated confidence at each (interpolated linearly between). */
  y: number[];
}

export interface PostprocessConfig {
  featureVersion: string;
  /** Version of this file's content, part of the detector version. */
  version: string;
  fittedOn: { seed: string; count: number };
  rules: Record<AnomalyCategory, RunRule>;
  confidence: Record<AnomalyCategory, ConfidenceMap>;
  /** p99 of CSAR-2's per-bucket error on clean validation sessions: the error scale of `score`. */
  errorP99: number;
  /** Per category: where the verdict comes from (the validation corpus decides). */
  source: Record<AnomalyCategory, Source>;
  /**
   * Per category whose source is learned&physics: the learned run rule and confidence map used
   * there. Two detectors agreeing is evidence in itself, so the learned side may be less strict
   * than when it decides alone; fitted on validation like the rest.
   */
  confirmed?: Partial<Record<AnomalyCategory, { rule: RunRule; confidence: ConfidenceMap }>>;
  /** Calibration of the physics detector's confidences, for categories it contributes to. */
  physicsConfidence?: Record<AnomalyCategory, ConfidenceMap>;
  /**
   * Per category and observable slice (`dimension=value`, models/serving/slices.ts): the source
   * chosen on that slice of validation, where the slice had enough sessions (else the category's
   * `source` holds). A session in several slices with different choices takes the one that leans
   * most on the rules (`SOURCE_RULES_FIRST`). Absent in files from before slices (same meaning as empty).
   */
  sliceSource?: Partial<Record<AnomalyCategory, Record<string, Source>>>;
  /** SORC's calibrated confidence and uncertainty band (absent: the raw Gaussian confidence). */
  sorc?: SorcCalibration;
  createdAt: string;
}

/**
 * learned: CSAR-C-2 alone; physics: the rules alone; learned+physics: the union (learned ranges
 * where both found the category); learned&physics: learned ranges only where physics agrees.
 */
export type Source = 'learned' | 'physics' | 'learned+physics' | 'learned&physics';

/** Sources from the one leaning most on the rules to the one leaning most on the learned model. */
export const SOURCE_RULES_FIRST: Source[] = ['physics', 'learned&physics', 'learned+physics', 'learned'];

/**
 * Per category, the source for a session in the given slices (`dimension=value` keys): the
 * rules-most of the slices' choices, or the category's own where no slice has one.
 */
export function sourcesFor(cfg: PostprocessConfig, slices: string[]): Record<AnomalyCategory, Source> {
  const ss = cfg.sliceSource;
  if (!ss) return cfg.source;
  let out: Record<AnomalyCategory, Source> | null = null;
  for (const c of ANOMALY_CATEGORIES) {
    const per = ss[c];
    if (!per) continue;
    let pick: Source | null = null;
    for (const k of slices) {
      const src = per[k];
      if (src && (pick === null || SOURCE_RULES_FIRST.indexOf(src) < SOURCE_RULES_FIRST.indexOf(pick))) pick = src;
    }
    if (pick && pick !== cfg.source[c]) (out ??= { ...cfg.source })[c] = pick;
  }
  return out ?? cfg.source;
}

/** Neutral settings (threshold 0.5, identity confidence, learned only) until calibration has run. */
export function defaultPostprocess(): PostprocessConfig {
  const per = <T>(f: () => T) => Object.fromEntries(ANOMALY_CATEGORIES.map((c) => [c, f()])) as Record<AnomalyCategory, T>;
  return {
    featureVersion: FEATURE_VERSION,
    version: 'uncalibrated',
    fittedOn: { seed: '', count: 0 },
    rules: per(() => ({ threshold: 0.5, peak: 0.5, gap: 2 })),
    confidence: per(() => ({ x: [], y: [] })),
    errorP99: 0,
    source: per(() => 'learned' as Source),
    createdAt: '',
  };
}

export interface Run {
  category: AnomalyCategory;
  start: number;
  end: number;
  peak: number;
  mean: number;
}

/** Runs of one category's probabilities [T] (channel c of a [C × T] matrix). */
export function runsOf(probs: Float32Array, T: number, c: number, rule: RunRule, category: AnomalyCategory): Run[] {
  const out: Run[] = [];
  const base = c * T;
  if (category === 'ZERO_SESSION') {
    // A property of the whole window: reported over all of it when the mean probability says so.
    let sum = 0;
    let peak = 0;
    for (let b = 0; b < T; b++) {
      sum += probs[base + b];
      if (probs[base + b] > peak) peak = probs[base + b];
    }
    const mean = T ? sum / T : 0;
    if (T && mean >= rule.threshold && peak >= rule.peak) out.push({ category, start: 0, end: T - 1, peak: mean, mean });
    return out;
  }
  let cur: Run | null = null;
  let sum = 0;
  let n = 0;
  for (let b = 0; b < T; b++) {
    const p = probs[base + b];
    if (p < rule.threshold) continue;
    if (cur && b - cur.end - 1 <= rule.gap) {
      cur.end = b;
    } else {
      if (cur) finish(cur, sum, n, out, rule);
      cur = { category, start: b, end: b, peak: 0, mean: 0 };
      sum = 0;
      n = 0;
    }
    if (p > cur.peak) cur.peak = p;
    sum += p;
    n++;
  }
  if (cur) finish(cur, sum, n, out, rule);
  return out;
}

function finish(r: Run, sum: number, n: number, out: Run[], rule: RunRule): void {
  r.mean = n ? sum / n : 0;
  if (r.peak >= rule.peak) out.push(r);
}

export function applyConfidence(map: ConfidenceMap | undefined, p: number): number {
  if (!map || map.x.length === 0) return p;
  const { x, y } = map;
  if (p <= x[0]) return y[0];
  if (p >= x[x.length - 1]) return y[y.length - 1];
  let i = 1;
  while (x[i] < p) i++;
  const f = (p - x[i - 1]) / (x[i] - x[i - 1] || 1);
  return y[i - 1] + f * (y[i] - y[i - 1]);
}

/** Pool-adjacent-violators: the non-decreasing fit of `correct` (0/1) ordered by `score`. */
export function isotonic(score: number[], correct: number[], maxKnots = 24): ConfidenceMap {
  const idx = score.map((_, i) => i).sort((a, b) => score[a] - score[b]);
  const blocks: { x: number; y: number; w: number }[] = [];
  for (const i of idx) {
    blocks.push({ x: score[i], y: correct[i], w: 1 });
    while (blocks.length >= 2 && blocks[blocks.length - 2].y >= blocks[blocks.length - 1].y) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      a.x = (a.x * a.w + b.x * b.w) / (a.w + b.w);
      a.y = (a.y * a.w + b.y * b.w) / (a.w + b.w);
      a.w += b.w;
    }
  }
  // Thin to at most maxKnots points (a small file; linear interpolation in between).
  const step = Math.max(1, Math.ceil(blocks.length / maxKnots));
  const kept = blocks.filter((_, i) => i % step === 0 || i === blocks.length - 1);
  return { x: kept.map((b) => round4(b.x)), y: kept.map((b) => round4(Math.min(0.99, Math.max(0.01, b.y)))) };
}

/**
 * Anomalies of one session from the model outputs. `error` (CSAR-2 per-bucket error) may be
 * null when the chosen classifier does not carry the autoencoder.
 */
export function decode(
  probs: Float32Array,
  T: number,
  t0: number,
  cfg: PostprocessConfig,
  error: Float32Array | null,
  /** The runs feed fusion with physics: categories that need physics to confirm use `confirmed`. */
  fused = false,
  /** The session's sources (`sourcesFor`), default the categories' own. */
  sources: Record<AnomalyCategory, Source> = cfg.source,
): { anomalies: Anomaly[]; runs: Run[] } {
  const runs: Run[] = [];
  const anomalies: Anomaly[] = [];
  ANOMALY_CATEGORIES.forEach((category, c) => {
    const conf = fused && sources[category] === 'learned&physics' ? cfg.confirmed?.[category] : undefined;
    for (const r of runsOf(probs, T, c, conf?.rule ?? cfg.rules[category], category)) {
      runs.push(r);
      anomalies.push(toAnomaly(r, t0, cfg, error, conf?.confidence));
    }
  });
  return { anomalies, runs };
}

export function toAnomaly(r: Run, t0: number, cfg: PostprocessConfig, error: Float32Array | null, confidence = cfg.confidence[r.category]): Anomaly {
  // Severity: how sure the classifier is over the range, raised by how far the reconstruction
  // error goes beyond what clean sessions show, and by the range's length (up to 30 min).
  let errTerm = 0;
  if (error && cfg.errorP99 > 0) {
    let hi = 0;
    for (let b = r.start; b <= r.end; b++) hi = Math.max(hi, error[b]);
    errTerm = Math.min(1, Math.log10(1 + hi / cfg.errorP99) / 2);
  }
  const len = Math.min(1, (r.end - r.start + 1) / 120);
  const score = round3(Math.min(1, 0.25 + 0.35 * r.mean + 0.25 * errTerm + 0.15 * len));
  return {
    category: r.category,
    score,
    confidence: round3(applyConfidence(confidence, r.peak)),
    bucketRange: { startUnit: r.start, endUnit: r.end },
    timeRange: timeRangeOf(t0, r.start, r.end),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
