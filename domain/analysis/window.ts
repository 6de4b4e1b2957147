// The analysis window (anomaly-categories.md, "Terms"): at most the last 6 hours of a session,
// cut into 15-second buckets counted from the first reading in the window.
import type { AnalysisWindow, NormalisedSession, Series, SocPoints } from './types';

export const BUCKET_MS = 15_000;
export const WINDOW_MS = 6 * 3600_000;
export const MAX_BUCKETS = 1440;

/** 0-based bucket of instant `t` (epoch ms); not clamped. */
export function bucketOf(t: number, t0: number): number {
  return Math.floor((t - t0) / BUCKET_MS);
}

/** ISO 8601 UTC with Z; milliseconds only when there are some (the reference prints whole seconds). */
export function isoUtc(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/** The SoC overlay's points as the API lists them: timestamp, value and, where known, the 80 % band. */
export function socPointList(
  p: SocPoints | { timestamp: string; value: number }[] | null | undefined,
): { timestamp: string; value: number; low?: number; high?: number }[] {
  if (!p) return [];
  // Written in the list form by a worker from before the compact form (during a rolling update).
  if (Array.isArray(p)) return p;
  const band = p.band;
  return p.buckets.map((b, i) => {
    const point = { timestamp: isoUtc(p.t0 + b * BUCKET_MS), value: p.values[i] };
    if (!band) return point;
    return { ...point, low: Math.max(0, round1(p.values[i] - band[i])), high: Math.min(100, round1(p.values[i] + band[i])) };
  });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Time span of an inclusive bucket range: t0 + 15 s·startUnit to t0 + 15 s·(endUnit + 1). */
export function timeRangeOf(t0: number, startUnit: number, endUnit: number): { startTimestamp: string; endTimestamp: string } {
  return { startTimestamp: isoUtc(t0 + BUCKET_MS * startUnit), endTimestamp: isoUtc(t0 + BUCKET_MS * (endUnit + 1)) };
}

/**
 * Window start = last timestamp over energy, power and SoC − 6 h (inclusive); t0 = first timestamp
 * kept. A reading exactly 6 h after t0 would open bucket 1440, so the last bucket is clamped to
 * 1439 (readings there are analysed with bucket 1439).
 */
export function analysisWindow(n: NormalisedSession): AnalysisWindow {
  const all = [n.energy, n.power, n.soc].filter((s) => s.t.length > 0);
  if (all.length === 0) {
    return { t0: 0, tEnd: 0, bucketCount: 0, energy: empty(), power: empty(), soc: empty(), truncated: false, before: { deliveredKwh: 0, charged: false } };
  }
  const last = Math.max(...all.map((s) => s.t[s.t.length - 1]));
  const start = last - WINDOW_MS;
  const cut = (s: Series): Series => {
    let i = 0;
    while (i < s.t.length && s.t[i] < start) i++;
    return i === 0 ? { t: s.t.slice(), v: s.v.slice() } : { t: s.t.slice(i), v: s.v.slice(i) };
  };
  const energy = cut(n.energy);
  const power = cut(n.power);
  const soc = cut(n.soc);
  const truncated = [n.energy, n.power, n.soc].some((s) => s.t.length > 0 && s.t[0] < start);
  const t0 = Math.min(...[energy, power, soc].filter((s) => s.t.length > 0).map((s) => s.t[0]));
  const before = truncated ? droppedSummary(n.energy, n.power, start) : { deliveredKwh: 0, charged: false };
  return { t0, tEnd: last, bucketCount: Math.min(MAX_BUCKETS, bucketOf(last, t0) + 1), energy, power, soc, truncated, before };
}

/** Charging threshold of anomaly-categories.md (kW). */
const CHARGING_KW = 0.5;

/**
 * Energy the register gained before `start` (increments above its running maximum, up to the first
 * reading kept, so a reset does not count), and whether power or the register's slope showed
 * charging there.
 */
function droppedSummary(E: Series, P: Series, start: number): { deliveredKwh: number; charged: boolean } {
  let delivered = 0;
  let charged = false;
  if (E.t.length) {
    let hi = E.v[0];
    for (let i = 1; i < E.t.length && E.t[i - 1] < start; i++) {
      const inc = E.v[i] - hi;
      if (inc > 0) {
        delivered += inc;
        hi = E.v[i];
        const dtH = (E.t[i] - E.t[i - 1]) / 3_600_000;
        if (dtH > 0 && (E.v[i] - E.v[i - 1]) / dtH > CHARGING_KW) charged = true;
      }
    }
  }
  for (let i = 0; i < P.t.length && P.t[i] < start; i++) if (P.v[i] > CHARGING_KW) charged = true;
  return { deliveredKwh: delivered, charged };
}

function empty(): Series {
  return { t: [], v: [] };
}

/** Median gap between consecutive readings (ms); 0 with fewer than 2 readings. */
export function medianStepMs(s: Series): number {
  if (s.t.length < 2) return 0;
  const gaps: number[] = [];
  for (let i = 1; i < s.t.length; i++) gaps.push(s.t[i] - s.t[i - 1]);
  gaps.sort((a, b) => a - b);
  const m = gaps.length >> 1;
  return gaps.length % 2 ? gaps[m] : (gaps[m - 1] + gaps[m]) / 2;
}
