// Ground truth in the detector's terms: the analysis window (the last 6 hours, t0 = first reading
// in it) and each truth range as an inclusive 15-second bucket range from t0.
import type { AnomalyCategory } from '../../../domain/analysis/types';
import { BUCKET_MS, WINDOW_MS } from './trace';
import type { SimSession } from './types';

export interface TruthWindow {
  t0: number;
  tEnd: number;
  bucketCount: number;
  truncated: boolean;
}

export interface TruthBuckets {
  category: AnomalyCategory;
  startUnit: number;
  endUnit: number;
}

const MAX_BUCKETS = WINDOW_MS / BUCKET_MS;

/** The analysis window of a simulated session (all its readings share the sampling instants). */
export function truthWindow(session: SimSession): TruthWindow {
  let last = -Infinity;
  const ts: number[] = [];
  for (const mv of session.meterValues) {
    const t = Date.parse(mv.timestamp);
    ts.push(t);
    if (t > last) last = t;
  }
  const start = last - WINDOW_MS;
  let t0 = Infinity;
  let first = Infinity;
  for (const t of ts) {
    if (t >= start && t < t0) t0 = t;
    if (t < first) first = t;
  }
  return { t0, tEnd: last, bucketCount: Math.min(MAX_BUCKETS, Math.floor((last - t0) / BUCKET_MS) + 1), truncated: first < start };
}

/** The truth ranges as bucket ranges of the analysis window: bucket(startMs) … bucket(endMs), clamped. */
export function truthBuckets(session: SimSession, window: TruthWindow = truthWindow(session)): TruthBuckets[] {
  const last = window.bucketCount - 1;
  const bucket = (t: number) => Math.min(last, Math.max(0, Math.floor((t - window.t0) / BUCKET_MS)));
  return session.truth.ranges.map((r) => {
    const startUnit = bucket(r.startMs);
    return { category: r.category, startUnit, endUnit: Math.max(startUnit, bucket(r.endMs)) };
  });
}
