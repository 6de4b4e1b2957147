// The analysis pipeline: stored meter values → normalised series → 6-hour window → detector →
// session verdict. Pure: the caller loads readings and stores the result.
import { densityFactor, PhysicsDetector } from './physics-detector';
import { withinHardEdges } from './hard-edges';
import { normalise } from './normalise';
import type { AnalysisResult, Anomaly, AnalysisWindow, BatchDetector, DataQuality, Detector, DetectorInput, DetectorOutput, StoredMeterValue } from './types';
import { isoUtc, medianStepMs, timeRangeOf, analysisWindow } from './window';

/** A session is analysed from this many usable readings on (anomaly-categories.md). */
export const MIN_READINGS = 3;

export interface AnalyseOptions {
  metadata?: Record<string, unknown> | null;
  detector?: Detector;
}

const physics = new PhysicsDetector();

type Prepared =
  | { ready: false; result: AnalysisResult }
  | { ready: true; window: AnalysisWindow; quality: DataQuality; readingCount: number };

/**
 * Normalises and windows a session; `ready: false` carries the pending verdict.
 *
 * `readingCount` counts the usable readings in the analysis window: points of the normalised
 * energy, power and SoC series, i.e. after collapsing duplicates and conflicts, summing phases and
 * dropping other measurands and readings older than the window. Fewer than 3, or no energy and no
 * power at all, leaves the session `pending` with a message saying why.
 */
function prepare(values: StoredMeterValue[]): Prepared {
  const n = normalise(values);
  const w = analysisWindow(n);
  const readingCount = w.energy.t.length + w.power.t.length + w.soc.t.length;
  if (readingCount < MIN_READINGS) {
    const scope = w.truncated ? ' in the last 6 hours of the session' : '';
    const message =
      `Waiting for more data: ${readingCount} usable meter value(s)${scope} (Energy.Active.Import.Register, Power.Active.Import or SoC, ` +
      `after merging duplicates and phases); the analysis runs from ${MIN_READINGS} on.`;
    return { ready: false, result: { status: 'pending', message, quality: n.quality, readingCount } };
  }
  if (w.energy.t.length === 0 && w.power.t.length === 0) {
    const message =
      'No usable energy or power readings (Energy.Active.Import.Register in Wh/kWh or Power.Active.Import in W/kW) to analyse.';
    return { ready: false, result: { status: 'pending', message, quality: n.quality, readingCount } };
  }
  return { ready: true, window: w, quality: n.quality, readingCount };
}

/** The verdict of a prepared session from its detector's output. */
function finish(
  p: Extract<Prepared, { ready: true }>,
  out: DetectorOutput,
  detector: { name: string; version: string },
  metadata: Record<string, unknown> | null | undefined,
): AnalysisResult {
  const w = p.window;
  const anomalies = tidy(withinHardEdges(w, metadata, out.anomalies), w);
  const isAnomaly = anomalies.length > 0;
  const result: AnalysisResult = {
    status: 'active',
    isAnomaly,
    // Independent findings compound: 1 − Π(1 − s) is never below the largest single score.
    anomalyScore: isAnomaly ? round3(1 - anomalies.reduce((q, a) => q * (1 - a.score), 1)) : 0,
    anomalyConfidence: isAnomaly ? round3(Math.min(0.99, 1 - anomalies.reduce((q, a) => q * (1 - a.confidence), 1))) : normalConfidence(w),
    anomalies,
    quality: p.quality,
    window: { t0: isoUtc(w.t0), tEnd: isoUtc(w.tEnd), bucketCount: w.bucketCount, truncated: w.truncated },
    readingCount: p.readingCount,
    detector: `${detector.name}@${detector.version}`,
    message: w.truncated ? 'The session spans more than 6 hours: only its last 6 hours were analysed.' : null,
  };
  if (out.soc) result.soc = out.soc;
  return result;
}

/** Synchronous analysis with a synchronous detector (the physics rules by default). */
export function analyse(values: StoredMeterValue[], opts: AnalyseOptions = {}): AnalysisResult {
  const p = prepare(values);
  if (!p.ready) return p.result;
  const detector = opts.detector ?? physics;
  return finish(p, { anomalies: detector.detect({ window: p.window, metadata: opts.metadata ?? null }) }, detector, opts.metadata);
}

export interface SessionInput {
  values: StoredMeterValue[];
  metadata?: Record<string, unknown> | null;
}

/**
 * Analyses several sessions with one batched detector call. A session whose data breaks the
 * pipeline gets an Error in its slot instead of failing the others; if the batched call fails,
 * each session is retried alone so that only the culprit fails.
 */
export async function analyseMany(sessions: SessionInput[], detector: BatchDetector): Promise<(AnalysisResult | Error)[]> {
  const results: (AnalysisResult | Error)[] = new Array(sessions.length);
  const ready: { i: number; p: Extract<Prepared, { ready: true }>; input: DetectorInput }[] = [];
  sessions.forEach((s, i) => {
    try {
      const p = prepare(s.values);
      if (p.ready) ready.push({ i, p, input: { window: p.window, metadata: s.metadata ?? null } });
      else results[i] = p.result;
    } catch (err) {
      results[i] = asError(err);
    }
  });
  if (ready.length === 0) return results;
  let outs: (DetectorOutput | Error)[];
  try {
    outs = await detector.detectMany(ready.map((r) => r.input));
  } catch (err) {
    if (ready.length === 1) outs = [asError(err)];
    else outs = await Promise.all(ready.map((r) => detector.detectMany([r.input]).then((o) => o[0], asError)));
  }
  ready.forEach((r, k) => {
    const out = outs[k];
    try {
      results[r.i] = out instanceof Error ? out : finish(r.p, out, detector, r.input.metadata);
    } catch (err) {
      results[r.i] = asError(err);
    }
  });
  return results;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Whatever a detector returns (learned models included) leaves here inside the contract: scores
 * in [0, 1], ranges inside the window with matching time ranges, and no CHARGING_EXPECTED beside
 * ZERO_SESSION.
 */
function tidy(raw: Anomaly[], w: AnalysisWindow): Anomaly[] {
  const last = w.bucketCount - 1;
  const zero = raw.some((a) => a.category === 'ZERO_SESSION');
  return raw
    .filter((a) => !(zero && a.category === 'CHARGING_EXPECTED'))
    .map((a) => {
      const s = clampInt(a.bucketRange.startUnit, 0, last);
      const e = clampInt(a.bucketRange.endUnit, s, last);
      return {
        category: a.category,
        score: round3(clamp01(a.score)),
        confidence: round3(clamp01(a.confidence)),
        bucketRange: { startUnit: s, endUnit: e },
        timeRange: timeRangeOf(w.t0, s, e),
      };
    });
}

/**
 * Confidence of a "normal" verdict: how much the data could have shown an anomaly. Dense readings
 * of both energy and power (plus SoC) over a longer stretch give a confident "normal".
 */
function normalConfidence(w: AnalysisWindow): number {
  const hasE = w.energy.t.length >= 2;
  const hasP = w.power.t.length >= 2;
  const main = hasE ? w.energy : w.power;
  const density = densityFactor(medianStepMs(main));
  const measurands = hasE && hasP ? 1 : hasE || hasP ? 0.6 : 0.2;
  const amount = Math.min(1, Math.max(w.energy.t.length, w.power.t.length) / 40);
  const soc = w.soc.t.length >= 2 ? 1 : 0;
  return round3(Math.min(0.95, 0.35 + 0.25 * density * measurands + 0.2 * amount + 0.1 * measurands + 0.05 * soc));
}

function clampInt(x: number, lo: number, hi: number): number {
  const v = Number.isFinite(x) ? Math.round(x) : lo;
  return Math.min(Math.max(v, lo), hi);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
