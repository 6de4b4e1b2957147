// A simulator corpus as the analysis sees it: each session normalised and windowed exactly as
// domain/analysis/analyse.ts does, with its ground truth as bucket ranges of that window. Used by
// calibration (validation seed) and evaluation (held-out seed).
import { MIN_READINGS } from '../../domain/analysis/analyse';
import { normalise } from '../../domain/analysis/normalise';
import type { AnalysisWindow } from '../../domain/analysis/types';
import { analysisWindow } from '../../domain/analysis/window';
import { iterateCorpus, truthBuckets, truthWindow, type SimSession } from './simulator';
import { storedValues } from './export-dataset';
import type { TruthRanges } from './metrics';

export interface PreparedSession {
  sim: SimSession;
  window: AnalysisWindow;
  metadata: Record<string, unknown>;
  truth: TruthRanges;
  clean: boolean;
  /** The analysis would run a detector (else the session stays pending: nothing reported). */
  eligible: boolean;
  /** Window and truth agree (always, for the simulator; counted when not). */
  aligned: boolean;
}

export function prepare(sim: SimSession): PreparedSession {
  const w = analysisWindow(normalise(storedValues(sim)));
  const readings = w.energy.t.length + w.power.t.length + w.soc.t.length;
  const eligible = readings >= MIN_READINGS && (w.energy.t.length > 0 || w.power.t.length > 0);
  const tw = truthWindow(sim);
  const aligned = tw.t0 === w.t0 && tw.bucketCount === w.bucketCount;
  const truth: TruthRanges = {};
  for (const r of truthBuckets(sim, tw)) (truth[r.category] ??= []).push({ start: r.startUnit, end: r.endUnit });
  return { sim, window: w, metadata: sim.metadata, truth, clean: sim.truth.clean, eligible, aligned };
}

export function* preparedCorpus(seed: string, count: number, anomalyRate = 0.5): Generator<PreparedSession> {
  for (const sim of iterateCorpus({ seed, count, anomalyRate })) yield prepare(sim);
}
