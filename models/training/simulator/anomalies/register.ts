// Energy-register anomalies: ENERGY_PIT (a transient hole, back on its trajectory within 2 min),
// KWH_DECREASE (down and still down 2 min later: reboot, rollback, swapped meter, meterStop below
// meterStart) and UNEXPECTED_KWH_ACCUMULATE (energy power cannot explain). Every value is placed
// clear of the rules' thresholds, and the reported range is read back from the corrupted series.
import { BUCKET_MS, CHARGING_KW, isCharging } from '../trace';
import { clamp01, maxBefore, type Injection } from './context';

const MIN = 60_000;
const H = 3_600_000;
/** ENERGY_PIT recovers within, KWH_DECREASE stays down beyond, this (anomaly-categories.md). */
const RECOVERY_MS = 2 * MIN;
/** A decrease is shown down for at least the recovery time plus this. */
const EVIDENCE_MARGIN_MS = 15_000;
/** UNEXPECTED_KWH_ACCUMULATE: unexplained rise ≥ 0.05 kWh over ≥ 1 min; injected with margin. */
const ACCRUAL_MIN_KWH = 0.08;
const ACCRUAL_MIN_MS = 75_000;
const RATE_FACTOR = 1.5;
const DEFAULT_MAX_KW = 350;
const TRIES = 30;

/** Severity of a drop: 0 at the threshold, 1 at four orders of magnitude beyond. */
function depthSeverity(depth: number, thr: number): number {
  return clamp01(Math.log10(depth / thr) / 4);
}

export function injectEnergyPit(c: Injection, severity: number): boolean {
  const { t, e } = c.tr;
  const n = c.n;
  const thr = c.dropThresholdKwh;
  const lo = Math.max(1, c.tr.w0 + 1);
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (n - 2 < lo) return false;
    const j = c.rng.int(lo, n - 2);
    // Readings j … k-1 are in the pit; reading k, back on the trajectory, comes within 2 min of j
    // (with sparse readings the pit is one reading, as long as the charger's glitch lasted).
    let k = j + 1;
    const want = 1 + Math.floor(c.rng.next() * 8);
    while (k - j < want && k + 1 < n && t[k + 1] - t[j] <= RECOVERY_MS) k++;
    if (!c.free(c.busyE, j - 1, k)) continue;
    const top = maxBefore(e, j);
    if (e[k] < top) continue; // would not come back to the previous maximum
    const ceiling = top - thr - c.marginKwh; // every pit value stays at or below this
    if (ceiling < 0) continue;
    const mode = c.rng.weighted([
      ['to-zero', 0.5],
      ['to-level', 0.25],
      ['minus-delta', 0.25],
    ] as const);
    const vals: number[] = [];
    if (mode === 'to-zero') for (let i = j; i < k; i++) vals.push(0);
    else if (mode === 'to-level') {
      // A flat wrong value (a stale or partial reading): the deeper, the more severe.
      const v = ceiling * (1 - severity);
      for (let i = j; i < k; i++) vals.push(v);
    } else {
      // The register keeps counting, offset down by δ (a glitching high digit).
      const need = e[k - 1] - ceiling;
      const most = e[j];
      if (need > most) continue;
      const delta = need + (most - need) * severity * severity;
      for (let i = j; i < k; i++) vals.push(Math.max(0, e[i] - delta));
    }
    let minV = Infinity;
    for (let i = j; i < k; i++) {
      e[i] = vals[i - j];
      minV = Math.min(minV, e[i]);
    }
    c.claim(c.busyE, j - 1, k);
    const sparse = t[k] - t[j] > RECOVERY_MS ? '/sparse' : '';
    c.add('ENERGY_PIT', t[j], t[k] - BUCKET_MS, depthSeverity(top - minV, thr), mode + sparse);
    return true;
  }
  return false;
}

type DecreaseVariant = 'reset-to-zero' | 'rollback' | 'meter-swap' | 'temporary' | 'stop-below-start';

export function injectKwhDecrease(c: Injection, severity: number): boolean {
  const { t, e } = c.tr;
  const n = c.n;
  const thr = c.dropThresholdKwh;
  const lo = Math.max(1, c.tr.w0 + 1);
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const variant = c.rng.weighted<DecreaseVariant>([
      ['reset-to-zero', 0.3],
      ['rollback', 0.22],
      ['meter-swap', 0.15],
      ['temporary', 0.18],
      ['stop-below-start', 0.15],
    ]);
    const j = variant === 'stop-below-start' ? n - 1 : c.rng.int(lo, n - 2);
    if (j < lo) continue;
    const top = maxBefore(e, j);
    const ceiling = top - thr - c.marginKwh;
    if (ceiling < 0) continue;
    // Proposed values for readings j … n-1.
    const next = e.slice(j);
    const shift = (delta: number, until = n) => {
      for (let i = j; i < until; i++) next[i - j] = e[i] - delta;
    };
    // δ that keeps every reading of the next 2 min (plus margin) below the threshold.
    const deltaToStayDown = () => {
      let hi = e[j];
      for (let i = j; i < n && t[i] - t[j] <= RECOVERY_MS + EVIDENCE_MARGIN_MS + 30_000; i++) hi = Math.max(hi, e[i]);
      return hi - ceiling;
    };
    switch (variant) {
      case 'reset-to-zero':
        shift(e[j - 1]);
        break;
      case 'meter-swap': {
        const room = ceiling - (e[j] - e[j - 1]);
        if (room <= 0) continue;
        shift(e[j - 1] - room * (1 - severity) * c.rng.next());
        break;
      }
      case 'rollback': {
        const need = deltaToStayDown();
        if (need > e[j]) continue;
        shift(need + (e[j] - need) * severity * severity);
        break;
      }
      case 'temporary': {
        // Stale values for 2–30 min, then the register is back on its trajectory.
        let k = j + 1;
        const lasting = RECOVERY_MS + EVIDENCE_MARGIN_MS + severity * 28 * MIN;
        while (k < n - 1 && t[k - 1] - t[j] < lasting) k++;
        if (k >= n - 1) continue;
        let hi = 0;
        for (let i = j; i < k; i++) hi = Math.max(hi, e[i]);
        const need = hi - ceiling;
        if (need > e[j]) continue;
        shift(need + (e[j] - need) * severity * c.rng.next(), k);
        break;
      }
      case 'stop-below-start':
        // meterStop < meterStart: the final reading below where the session began (or below its maximum).
        next[0] = Math.min(ceiling, e[0] > thr + c.marginKwh ? e[0] - thr - c.marginKwh : ceiling) * c.rng.range(0, 1 - 0.5 * severity);
        break;
    }
    for (let i = 0; i < next.length; i++) if (!(next[i] >= 0)) next[i] = 0;

    // Read the dip back from the proposed series, as the spec defines it.
    let k = j;
    while (k < n && next[k - j] < top - thr) {
      if (next[k - j] > ceiling) break; // too close to the threshold to be unambiguous
      k++;
    }
    const recovered = k < n;
    if (recovered && next[k - j] < top) continue; // neither in the dip nor clearly back
    const evidence = (recovered ? t[k - 1] : t[n - 1]) - t[j];
    if (variant !== 'stop-below-start' && evidence < RECOVERY_MS + EVIDENCE_MARGIN_MS) continue;
    const last = recovered ? k : n - 1;
    if (!c.free(c.busyE, j - 1, last)) continue;
    let minV = Infinity;
    for (let i = j; i < n; i++) {
      e[i] = next[i - j];
      if (i < k) minV = Math.min(minV, e[i]);
    }
    c.claim(c.busyE, j - 1, last);
    const sev = 0.7 * depthSeverity(top - minV, thr) + 0.3 * clamp01(((recovered ? t[k] : t[n - 1]) - t[j]) / (30 * MIN));
    c.add('KWH_DECREASE', t[j], recovered ? t[k] - BUCKET_MS : t[n - 1], sev, variant + (recovered ? '/recovered' : ''));
    return true;
  }
  return false;
}

type AccrualVariant = 'idle-creep' | 'power-dropout' | 'register-jump';

export function injectUnexpectedAccumulate(c: Injection, severity: number): boolean {
  const variants: [AccrualVariant, number][] = [['register-jump', c.has.power ? 0.34 : 1]];
  if (c.has.power) variants.push(['idle-creep', 0.33], ['power-dropout', 0.33]);
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const v = c.rng.weighted(variants);
    const ok = v === 'idle-creep' ? idleCreep(c, severity) : v === 'power-dropout' ? powerDropout(c, severity) : registerJump(c, severity);
    if (ok) return true;
  }
  return false;
}

/** Consecutive reading runs [a, b] satisfying `ok(i)` (and intervals `link(i)` between them). */
function runs(c: Injection, ok: (i: number) => boolean, link: (i: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let a = -1;
  for (let i = c.tr.w0; i < c.n; i++) {
    const good = ok(i) && (a < 0 || link(i - 1));
    if (good && a < 0) a = i;
    else if (!good && a >= 0) {
      out.push([a, i - 1]);
      a = ok(i) ? i : -1;
    }
  }
  if (a >= 0) out.push([a, c.n - 1]);
  return out;
}

/** A sub-run [a, b] of `run` spanning at least `minMs`, longer with severity. */
function subRun(c: Injection, run: [number, number], minMs: number, severity: number): [number, number] | null {
  const { t } = c.tr;
  const [ra, rb] = run;
  if (t[rb] - t[ra] < minMs) return null;
  const span = minMs + (t[rb] - t[ra] - minMs) * severity * c.rng.next();
  for (let tries = 0; tries < 8; tries++) {
    const a = c.rng.int(ra, rb - 1);
    let b = a + 1;
    while (b < rb && t[b] - t[a] < span) b++;
    if (t[b] - t[a] >= minMs) return [a, b];
  }
  let b = ra + 1;
  while (b < rb && t[b] - t[ra] < minMs) b++;
  return t[b] - t[ra] >= minMs ? [ra, b] : null;
}

/** Power reads idle, nothing flows, yet the register creeps up (phantom energy). */
function idleCreep(c: Injection, severity: number): boolean {
  const { t, e, p, eTrue } = c.tr;
  const idle = (i: number) => !isCharging(c.tr, i) && p[i] <= CHARGING_KW && !c.busyE[i] && !c.busyP[i];
  const flat = (i: number) => eTrue[i + 1] - eTrue[i] < 1e-9;
  const candidates = runs(c, idle, flat).filter(([a, b]) => t[b] - t[a] >= ACCRUAL_MIN_MS);
  if (candidates.length === 0) return false;
  const sub = subRun(c, c.rng.pick(candidates), ACCRUAL_MIN_MS, severity);
  if (!sub) return false;
  const [a, b] = sub;
  const amount = ACCRUAL_MIN_KWH + c.marginKwh + 5 * severity * severity;
  for (let i = a + 1; i < c.n; i++) e[i] += i <= b ? (amount * (t[i] - t[a])) / (t[b] - t[a]) : amount;
  c.claim(c.busyE, a, b);
  c.claim(c.busyP, a, b);
  c.add('UNEXPECTED_KWH_ACCUMULATE', t[a], t[b], clamp01(Math.log10(amount / 0.05) / 2.5), 'idle-creep');
  return true;
}

/** The power meter drops out (reads 0) while the register shows charging go on. */
function powerDropout(c: Injection, severity: number): boolean {
  const { t, p, eTrue } = c.tr;
  const charging = (i: number) => isCharging(c.tr, i) && !c.busyP[i] && !c.busyE[i];
  const candidates = runs(c, charging, () => true).filter(([a, b]) => t[b] - t[a] >= ACCRUAL_MIN_MS);
  for (let tries = 0; tries < 6 && candidates.length; tries++) {
    const sub = subRun(c, c.rng.pick(candidates), ACCRUAL_MIN_MS, severity);
    if (!sub) continue;
    const [a, b] = sub;
    const amount = eTrue[b] - eTrue[a];
    if (amount < ACCRUAL_MIN_KWH + 2 * c.marginKwh) continue;
    if (!c.free(c.busyP, a - 1, b + 1)) continue;
    for (let i = a; i <= b; i++) p[i] = 0;
    c.claim(c.busyP, a - 1, b + 1);
    c.claim(c.busyE, a, b);
    c.add('UNEXPECTED_KWH_ACCUMULATE', t[a], t[b], clamp01(Math.log10(amount / 0.05) / 2.5), 'power-dropout');
    return true;
  }
  return false;
}

/** The register leaps by more than 1.5 × the highest plausible power could deliver in one interval. */
function registerJump(c: Injection, severity: number): boolean {
  const { t, e, p } = c.tr;
  const n = c.n;
  const lo = c.tr.w0;
  if (n - 2 < lo) return false;
  let peak = 0;
  if (c.has.power) for (const x of p) if (x > peak) peak = x;
  const plausible = Math.max(c.ratingKw, Math.min(DEFAULT_MAX_KW, peak));
  for (let tries = 0; tries < 10; tries++) {
    const i = c.rng.int(lo, n - 2);
    if (!c.free(c.busyE, i, i + 1)) continue;
    const dtH = (t[i + 1] - t[i]) / H;
    const least = RATE_FACTOR * plausible * dtH + Math.max(0.05, c.resKwh) + c.marginKwh;
    let jump = least * (1.05 + 4 * severity * severity);
    const glitch = c.rng.chance(0.25);
    if (glitch) {
      // A flipped bit of a Wh counter: 2^16 … 2^24 Wh.
      jump = Math.max(least * 1.05, 2 ** c.rng.int(16, 24) / 1000);
    }
    for (let k = i + 1; k < n; k++) e[k] += jump;
    c.claim(c.busyE, i, i + 1);
    c.add('UNEXPECTED_KWH_ACCUMULATE', t[i], t[i + 1], clamp01(Math.log10(jump / least) / 2), glitch ? 'register-glitch' : 'register-jump');
    return true;
  }
  return false;
}
