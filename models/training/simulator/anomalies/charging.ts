// Session-level anomalies, decided in the charging plan before simulation: ZERO_SESSION (the car
// never takes energy, judged over all readings) and CHARGING_EXPECTED (revised contract: an abrupt
// stop, ≥ 10 min idle, and evidence the car wanted more — a later resumption, or SoC reported and
// below 70 % at the stop). A stall resumes to full power; a stop without resumption is planned only
// with SoC, well below 70 %. After simulation the idle stretch is read back from the readings
// (readback.ts judges the whole session once every anomaly is in).
import type { ChargePlan, Timeline } from '../physics';
import { stateAt } from '../physics';
import type { Rng } from '../rng';
import type { Grid } from '../sampling';
import { WINDOW_MS, isCharging } from '../trace';
import { clamp01, type Injection } from './context';

const MIN = 60_000;
const H = 3_600_000;
const IDLE_EXPECTED_MS = 10 * MIN;
/** The idle readings must span the threshold plus this. */
const IDLE_MARGIN_MS = 30_000;
/** A stall (resumption is the evidence) stops below this SoC, leaving room to resume at full power. */
const SOC_STALL_MAX = 88;
/** A stop without resumption needs SoC below 70 % at the stop: planned below this (rounding, drift). */
const SOC_STOP_MAX = 62;
const ABRUPT_FRACTION = 0.6;
const TAPER_LOOKBACK_MS = 15 * MIN;
const ZERO_MIN_SPAN_MS = 2 * MIN + 30_000;

export interface ExpectedEvent {
  kind: 'stall' | 'stopped-early';
  fromMs: number;
  /** Resumes here (stall); null when charging never resumes. */
  toMs: number | null;
}

/**
 * Adds a stall (charging resumes) or, with SoC, a stop for good to the plan, placed on the baseline
 * timeline: while charging, inside the last 6 hours of the final session, just before a reading at
 * ≥ 60 % of the peak, so that the readings show an abrupt stop.
 */
export function planChargingExpected(
  rng: Rng,
  plan: ChargePlan,
  base: Timeline,
  grid: Grid,
  hasSoc: boolean,
  severity: number,
  kindWish?: ExpectedEvent['kind'],
): ExpectedEvent | null {
  if (base.firstChargeMs === null || base.lastChargeMs === null) return null;
  const iv = grid.sampling.intervalMs;
  // Without SoC only a resumption shows that the car wanted more.
  const kind: ExpectedEvent['kind'] = !hasSoc ? 'stall' : (kindWish ?? (rng.chance(0.5) ? 'stall' : 'stopped-early'));
  const socMax = kind === 'stall' ? SOC_STALL_MAX : SOC_STOP_MAX;
  const minIdle = IDLE_EXPECTED_MS + 2.5 * iv + MIN;
  const maxIdle = kind === 'stall' ? 3 * H : Math.min(5 * H, WINDOW_MS - 4 * iv - 10 * MIN);
  if (maxIdle <= minIdle) return null;
  const idle = minIdle + (maxIdle - minIdle) * Math.pow(severity, 1.5);

  let from = base.firstChargeMs + 2 * iv + 2 * MIN;
  let to = Math.min(base.fullMs ?? Infinity, base.lastChargeMs) - iv;
  // SoC still clearly below full at the stop.
  for (let k = base.soc.length - 1; k >= 0; k--) {
    if (base.soc[k] < socMax) {
      to = Math.min(to, base.startMs + k * base.stepMs);
      break;
    }
  }
  // A stall delays the end by its length: keep its start inside the final 6-hour window.
  if (kind === 'stall') from = Math.max(from, base.endMs + idle - WINDOW_MS + 3 * iv + 5 * MIN);
  if (to <= from) return null;

  const peak = Math.max(...base.p);
  for (let tries = 0; tries < 12; tries++) {
    let at = rng.range(from, to);
    const instants = grid.upTo(at + 3 * iv);
    let i = instants.length - 1;
    while (i > 0 && instants[i] > at) i--;
    if (i < 0 || i + 1 >= instants.length) continue;
    at = instants[i] + rng.range(0.75, 0.95) * (instants[i + 1] - instants[i]);
    if (at < from || at > to) continue;
    if (stateAt(base, at).kw < ABRUPT_FRACTION * peak) continue;
    // Never after a taper (a DC curve falling with SoC): a tapered finish is not an anomaly.
    const kw = stateAt(base, at).kw;
    if (at - TAPER_LOOKBACK_MS > base.firstChargeMs && stateAt(base, at - TAPER_LOOKBACK_MS).kw > kw / 0.8) continue;
    const end = at + idle;
    if (plan.pauses.some((p) => p.fromMs < end + 5 * MIN && p.toMs > at - 5 * MIN)) continue;
    if (kind === 'stall') {
      plan.pauses.push({ fromMs: at, toMs: end });
      plan.pauses.sort((a, b) => a.fromMs - b.fromMs);
      plan.departureMs += idle;
      return { kind, fromMs: at, toMs: end };
    }
    plan.stopMs = at;
    plan.departureMs = end;
    return { kind, fromMs: at, toMs: null };
  }
  return null;
}

/** Reads the idle stretch back from the readings and checks it against the rule; records the truth. */
export function verifyChargingExpected(c: Injection, ev: ExpectedEvent): boolean {
  const { t, s, pTrue, eTrue } = c.tr;
  const n = c.n;
  let a = 0;
  while (a < n && t[a] < ev.fromMs) a++;
  while (a < n && pTrue[a] > 0) a++;
  if (a >= n || a - 1 < c.tr.w0 || !isCharging(c.tr, a - 1)) return false;
  let b = a;
  while (b + 1 < n && pTrue[b + 1] === 0) b++;
  if (t[b] - t[a] < IDLE_EXPECTED_MS + IDLE_MARGIN_MS) return false;
  if (eTrue[b] - eTrue[a] > 1e-6) return false;

  // No taper into the stop, whatever the measurands.
  for (let i = a - 2; i >= c.tr.w0 && t[i] >= t[a - 1] - TAPER_LOOKBACK_MS; i--) if (pTrue[i] > pTrue[a - 1] / 0.8) return false;
  if (!showsAbruptStop(c, a, c.ratingKw)) return false;
  let socFactor = 0.5;
  if (c.has.soc) {
    let hi = 0;
    for (let i = a - 1; i <= b; i++) hi = Math.max(hi, s[i]);
    if (ev.kind === 'stopped-early' && hi > SOC_STOP_MAX + 3) return false;
    socFactor = clamp01((95 - hi) / 60);
  }
  c.claim(c.busyE, a - 1, b);
  c.claim(c.busyP, a - 1, b);
  c.claim(c.busyS, a - 1, b);
  const sev = 0.5 * clamp01((t[b] - t[a] - IDLE_EXPECTED_MS) / H) + 0.5 * socFactor;
  c.add('CHARGING_EXPECTED', t[a], t[b], sev, ev.kind + (c.has.soc ? '' : '/no-soc'));
  return true;
}

/**
 * The readings themselves must show the stop at reading `a` as abrupt: the level before
 * it (power, else the register's slope) ≥ 60 % of the window's peak (implausible spikes above
 * 1.5 × the rating left out, as a register jump is no charging) and no rise-and-fall within 15 min.
 * Checked again after all injections, since a power anomaly can move the peak.
 */
export function showsAbruptStop(c: Injection, a: number, ratingKw: number): boolean {
  const { t, p, e } = c.tr;
  const n = c.n;
  const level = (i: number) => (c.has.power ? p[i] : slope(t, e, i, c.resKwh));
  let peak = 0;
  let peakAll = 0;
  for (let i = c.tr.w0; i < n - 1; i++) {
    if (!isCharging(c.tr, i)) continue;
    const v = level(i);
    peakAll = Math.max(peakAll, v);
    if (v <= 1.5 * ratingKw) peak = Math.max(peak, v);
  }
  if (peak === 0) peak = peakAll;
  const last = level(a - 1);
  if (last < ABRUPT_FRACTION * peak * 0.95) return false;
  for (let i = a - 2; i >= c.tr.w0 && t[i] >= t[a - 1] - TAPER_LOOKBACK_MS; i--) if (isCharging(c.tr, i) && level(i) > last / 0.8) return false;
  return true;
}

/** Register slope (kW) from reading i to the next, on the register as sent (rounded to its resolution). */
export function sentSlopeKw(t: number[], e: number[], i: number, resKwh: number): number {
  if (i + 1 >= t.length || t[i + 1] <= t[i]) return 0;
  const q = (x: number) => Math.round(x / resKwh) * resKwh;
  return (q(e[i + 1]) - q(e[i])) / ((t[i + 1] - t[i]) / H);
}
const slope = sentSlopeKw;

/**
 * ZERO_SESSION on a never-charging plan: the register stays flat, creeps by a few Wh (never
 * enough for 0.05 kWh of unexplained accrual or a 0.5 kW slope), or power reads standby watts.
 */
export function applyZeroSession(c: Injection, severity: number): boolean {
  const { t, e, p } = c.tr;
  const n = c.n;
  const span = t[n - 1] - t[0];
  if (n < 4 || span < ZERO_MIN_SPAN_MS) return false;
  const variants: ['flat' | 'tiny-creep' | 'standby-power', number][] = [['flat', 0.5]];
  // A creep shows as register steps: one step per reading interval must stay below 0.5 kW.
  let minGap = Infinity;
  for (let i = 1; i < n; i++) minGap = Math.min(minGap, t[i] - t[i - 1]);
  if (c.has.energy && c.resKwh / (minGap / H) < 0.4) variants.push(['tiny-creep', 0.3]);
  if (c.has.power) variants.push(['standby-power', 0.2]);
  const variant = c.rng.weighted(variants);
  if (variant === 'tiny-creep') {
    const creep = Math.min(c.rng.range(0.005, 0.04), (0.3 * span) / H);
    for (let i = 1; i < n; i++) e[i] += (creep * (t[i] - t[0])) / span;
  } else if (variant === 'standby-power') {
    // Without a register, power is the energy: keep its integral below 0.1 kWh too.
    const level = c.has.energy ? c.rng.range(0.05, 0.4) : Math.min(c.rng.range(0.05, 0.4), (0.06 * H) / span);
    for (let i = 0; i < n; i++) p[i] = level * c.rng.range(0.9, 1.1);
  }
  // The range is the whole analysis window (the last 6 hours of a longer session).
  c.add('ZERO_SESSION', t[c.tr.w0], t[n - 1], 0.5 * severity + 0.5 * clamp01(span / H), variant + (c.tr.w0 > 0 ? '/long' : ''));
  return true;
}
