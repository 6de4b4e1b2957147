// A simulator corpus as the analysis sees it: each session normalised and windowed exactly as
// domain/analysis/analyse.ts does, with its ground truth as bucket ranges of that window and the
// slices it belongs to (AC/DC, SoC or not, …). Used by calibration (validation seed), evaluation
// (held-out seed and the held-out slices) and the CI regression set.
//
// Hold-outs: the simulator keeps whole slices out of training — some vehicles, one sampling regime,
// one behaviour family. Training, validation and calibration see only sessions touching none of
// them (`holdout: 'exclude'`, the default here); the evaluation also scores each held-out slice.
import { MIN_READINGS } from '../../domain/analysis/analyse';
import { normalise } from '../../domain/analysis/normalise';
import type { AnalysisWindow } from '../../domain/analysis/types';
import { analysisWindow } from '../../domain/analysis/window';
import { iterateCorpus, truthBuckets, truthWindow, type CorpusOptions, type SimSession } from './simulator';
import { sessionSlices, type SliceKey } from './simulator/slices';
import { storedValues } from './export-dataset';
import type { TruthRanges } from './metrics';

export interface PreparedSession {
  sim: SimSession;
  window: AnalysisWindow;
  metadata: Record<string, unknown>;
  truth: TruthRanges;
  clean: boolean;
  /** The simulator's slices of the session, e.g. current: 'AC'. */
  slices: Record<SliceKey, string>;
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
  return { sim, window: w, metadata: sim.metadata, truth, clean: sim.truth.clean, slices: sessionSlices(sim), eligible, aligned };
}

export type Holdout = NonNullable<CorpusOptions['holdout']>;

/** The held-out slices, each scored beside the in-distribution split (`'exclude'`). */
export const HELD_OUT: Exclude<Holdout, 'exclude'>[] = ['vehicles', 'sampling', 'behaviour'];

export interface PreparedCorpusOptions {
  anomalyRate?: number;
  /** Default 'exclude': only sessions touching no held-out slice (what training may see). */
  holdout?: Holdout;
}

export function* preparedCorpus(seed: string, count: number, o: PreparedCorpusOptions = {}): Generator<PreparedSession> {
  for (const sim of iterateCorpus({ seed, count, anomalyRate: o.anomalyRate ?? 0.5, holdout: o.holdout ?? 'exclude' })) yield prepare(sim);
}
