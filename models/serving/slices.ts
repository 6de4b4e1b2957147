// The slices of a session that the served detector can see for itself (the window and the client's
// metadata — never the simulator's truth): postprocess.json may let the rules decide a category on
// a slice where the learned model did not beat them on validation (models/training/calibrate.ts).
//
// A session belongs to one value of each dimension; a slice is written `dimension=value`.
import { registerResolution } from '../../domain/analysis/physics-detector';
import type { AnalysisWindow } from '../../domain/analysis/types';
import { medianStepMs } from '../../domain/analysis/window';

export const SLICE_DIMENSIONS = ['soc', 'power', 'interval', 'register', 'current'] as const;
export type SliceDimension = (typeof SLICE_DIMENSIONS)[number];

export const SLICE_VALUES: Record<SliceDimension, readonly string[]> = {
  soc: ['yes', 'no'],
  power: ['yes', 'no'],
  /** Median reading interval: ≤ 1 min, 1–5 min, 5–15 min (and beyond). */
  interval: ['le1m', '1-5m', '5-15m'],
  /** Register resolution: none, fine (Wh, 0.01 kWh or finer), coarse (0.1 kWh or coarser). */
  register: ['none', 'fine', 'coarse'],
  /** AC/DC from metadata `currentType`, when the client gives it. */
  current: ['AC', 'DC', 'unknown'],
};

export type SessionSlices = Record<SliceDimension, string>;

const MIN = 60_000;

/** The slices of one session, from what the analysis sees. O(readings). */
export function windowSlices(w: AnalysisWindow, metadata?: Record<string, unknown> | null): SessionSlices {
  // Reading interval: of the measurand read most often (a register every minute beside a SoC every
  // 5 minutes is a 1-minute session).
  const series = [w.energy, w.power, w.soc].filter((s) => s.t.length >= 2).sort((a, b) => b.t.length - a.t.length);
  const step = series.length ? medianStepMs(series[0]) : 0;
  const interval = step <= MIN ? 'le1m' : step <= 5 * MIN ? '1-5m' : '5-15m';
  let register = 'none';
  if (w.energy.t.length >= 2) register = registerResolution(w.energy.v) >= 0.1 ? 'coarse' : 'fine';
  const ct = metadata && typeof metadata.currentType === 'string' ? metadata.currentType.trim().toUpperCase() : '';
  return {
    soc: w.soc.t.length >= 2 ? 'yes' : 'no',
    power: w.power.t.length >= 2 ? 'yes' : 'no',
    interval,
    register,
    current: ct === 'AC' || ct === 'DC' ? ct : 'unknown',
  };
}

/** `dimension=value` keys of a session's slices. */
export function sliceKeys(s: SessionSlices): string[] {
  return SLICE_DIMENSIONS.map((d) => `${d}=${s[d]}`);
}
