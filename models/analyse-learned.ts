// The async analysis entry for detectors that can only run asynchronously (onnxruntime-node):
// the same verdict as domain/analysis/analyse.ts — pending rules, tidying, scores, confidence of a
// normal verdict — with the anomalies of an AsyncDetector, plus SORC's SoC overlay.
//
// To stay exactly on analyse()'s contract without editing it, the async detector runs first and
// analyse() then receives a synchronous Detector that returns those anomalies. The price is one
// extra normalisation per call; the clean change in domain/analysis (for the lead) is to split
// analyse() into prepare (normalise, window, pending checks) and finish (tidy, scores) around the
// detector call and export `analyseAsync` from there.
import { analyse, MIN_READINGS, type AnalyseOptions } from '../domain/analysis/analyse';
import { normalise } from '../domain/analysis/normalise';
import type { AnalysisResult, Anomaly, Detector, StoredMeterValue } from '../domain/analysis/types';
import { analysisWindow } from '../domain/analysis/window';
import { OnnxDetector, type AsyncDetector, type DetectorOptions, type SocReconstruction } from './onnx-detector';

export type LearnedAnalysisResult = AnalysisResult & {
  /**
   * SORC's SoC overlay (socReconstructed false for sessions with SoC); never part of the readings
   * analysed. Absent for pending sessions and non-learned detectors.
   */
  soc?: SocReconstruction;
};

export interface AnalyseAsyncOptions {
  metadata?: Record<string, unknown> | null;
  /** Synchronous detectors (physics) work too. Default: the learned detector of models/artifacts. */
  detector?: AsyncDetector | Detector;
  /** Run SORC for sessions without SoC (default true with an OnnxDetector). */
  reconstructSoc?: boolean;
}

let shared: Promise<OnnxDetector> | null = null;

/** The served learned detector, loaded once per process (its ONNX sessions are cached per version). */
export function learnedDetector(opts: DetectorOptions = {}): Promise<OnnxDetector> {
  if (opts.dir || opts.fusion !== undefined) return OnnxDetector.load(opts);
  shared ??= OnnxDetector.load();
  shared.catch(() => (shared = null));
  return shared;
}

function isAsync(d: AsyncDetector | Detector): d is AsyncDetector {
  return typeof (d as AsyncDetector).detectAsync === 'function';
}

export async function analyseAsync(values: StoredMeterValue[], opts: AnalyseAsyncOptions = {}): Promise<LearnedAnalysisResult> {
  const detector = opts.detector ?? (await learnedDetector());
  const metadata = opts.metadata ?? null;
  const base: AnalyseOptions = { metadata };
  if (!isAsync(detector)) return analyse(values, { ...base, detector });

  const w = analysisWindow(normalise(values));
  const readings = w.energy.t.length + w.power.t.length + w.soc.t.length;
  if (readings < MIN_READINGS || (w.energy.t.length === 0 && w.power.t.length === 0)) {
    return analyse(values, base); // pending: analyse() writes the message, no detector runs
  }
  const input = { window: w, metadata };
  const [anomalies, soc] = await Promise.all([
    detector.detectAsync(input),
    detector instanceof OnnxDetector && opts.reconstructSoc !== false ? detector.reconstructSoc(w, undefined, metadata) : Promise.resolve(undefined),
  ]);
  const result: LearnedAnalysisResult = analyse(values, { ...base, detector: precomputed(detector, anomalies) });
  if (soc) result.soc = soc;
  return result;
}

/** A synchronous Detector that returns anomalies found beforehand (same name and version). */
function precomputed(d: AsyncDetector, anomalies: Anomaly[]): Detector {
  return { name: d.name, version: d.version, detect: () => anomalies };
}
