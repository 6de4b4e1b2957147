// INCORRECT_ACTIVE_POWER_REGISTER: reported power disagrees with the register while both say energy
// flows — W sent as kW, one phase reported as the total, a wrong CT ratio, a frozen value. The range
// is read back from the data with the rule itself (≥ 2 min, ≥ 3 consecutive readings, interval mean
// power vs register slope differing by more than max(1 kW, 25 %)), against the true register.
import { CHARGING_KW, isCharging, type Trace } from '../trace';
import { clamp01, type Injection } from './context';

const MIN = 60_000;
const H = 3_600_000;
const MISMATCH_MIN_MS = 2 * MIN;
const MISMATCH_ABS_KW = 1;
const MISMATCH_REL = 0.25;
const TRIES = 20;

type Variant = 'w-as-kw' | 'phase-as-total' | 'scaled' | 'frozen';

export function injectIncorrectPower(c: Injection, severity: number): boolean {
  const { p } = c.tr;
  const n = c.n;
  const idleReadsZero = p.every((x, i) => isCharging(c.tr, i) || x === 0);
  const variants: [Variant, number][] = [
    ['scaled', 0.3],
    ['frozen', 0.2],
  ];
  // ×1000 would turn standby watts into "charging" kilowatts: only where idle reads exactly 0.
  if (idleReadsZero) variants.push(['w-as-kw', 0.3]);
  if (c.phasesUsed >= 2) variants.push(['phase-as-total', 0.2]);
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const variant = c.rng.weighted(variants);
    const whole = variant === 'w-as-kw' || (variant !== 'frozen' && c.rng.chance(0.4));
    let a = 0;
    let b = n - 1;
    if (!whole) {
      const stretch = chargingStretch(c, severity);
      if (!stretch) continue;
      [a, b] = stretch;
    }
    if (!c.free(c.busyP, a, b)) continue;
    const saved = p.slice(a, b + 1);
    let factor = 1;
    switch (variant) {
      case 'w-as-kw':
        factor = 1000;
        break;
      case 'phase-as-total':
        factor = 1 / c.phasesUsed;
        break;
      case 'scaled':
        factor = c.rng.chance(0.5) ? 1 - (0.4 + 0.5 * severity) : 1.6 + 4 * severity;
        break;
      case 'frozen':
        break;
    }
    if (variant === 'frozen') for (let i = a + 1; i <= b; i++) p[i] = p[a];
    else for (let i = a; i <= b; i++) p[i] *= factor;
    const touched = new Uint8Array(n);
    for (let i = a; i <= b; i++) touched[i] = 1;
    const found = mismatchRuns(c.tr, touched, c.resKwh);
    if (found.length === 0) {
      for (let i = a; i <= b; i++) p[i] = saved[i - a];
      continue;
    }
    c.claim(c.busyP, a, b);
    if (variant === 'w-as-kw') c.powerEncoding.forceKw = true;
    if (variant === 'phase-as-total') c.powerEncoding.forceTotal = true;
    c.pendingPower.push({ touched, variant: variant + (whole ? '' : '/stretch'), factor });
    return true;
  }
  return false;
}

/**
 * Reads the disagreeing ranges back once every anomaly is in: intervals where the register as sent
 * is itself corrupted (a pit, a reset, a jump) cannot show a power disagreement and split the runs.
 * False when a power anomaly has no provable range left.
 */
export function finaliseIncorrectPower(c: Injection): boolean {
  const { t, e, eTrue } = c.tr;
  const judgeable = new Uint8Array(c.n);
  for (let i = 0; i + 1 < c.n; i++) {
    const sent = e[i + 1] - e[i];
    const real = eTrue[i + 1] - eTrue[i];
    judgeable[i] = Math.abs(sent - real) <= Math.max(0.01 * Math.abs(real), 2 * c.resKwh) ? 1 : 0;
  }
  for (const x of c.pendingPower) {
    const found = mismatchRuns(c.tr, x.touched, c.resKwh, judgeable);
    if (found.length === 0) return false;
    for (const [ra, rb] of found) {
      const sev = x.variant.startsWith('frozen') ? frozenSeverity(c.tr, ra, rb) : clamp01(Math.abs(Math.log10(x.factor)) / 3);
      c.add('INCORRECT_ACTIVE_POWER_REGISTER', t[ra], t[rb], sev, x.variant);
    }
  }
  c.pendingPower.length = 0;
  return true;
}

/** A run of charging readings inside the window spanning ≥ 2 min and ≥ 3 readings, longer with severity. */
function chargingStretch(c: Injection, severity: number): [number, number] | null {
  const { t } = c.tr;
  const n = c.n;
  for (let tries = 0; tries < 8; tries++) {
    const a = c.rng.int(c.tr.w0, n - 3);
    if (!isCharging(c.tr, a) || c.busyP[a]) continue;
    const want = MISMATCH_MIN_MS + 15_000 + severity * c.rng.next() * 60 * MIN;
    let b = a;
    while (b + 1 < n && isCharging(c.tr, b + 1) && !c.busyP[b + 1] && (t[b] - t[a] < want || b - a < 2)) b++;
    if (b - a >= 2 && t[b] - t[a] >= MISMATCH_MIN_MS + 15_000) return [a, b];
  }
  return null;
}

/**
 * Runs of consecutive intervals (touching a `touched` reading, inside the window) where both power
 * and the true register say energy flows and they disagree by more than max(1 kW, 25 %), also
 * against the nearest value between the two power readings; kept when
 * they have ≥ 2 intervals and span ≥ 2 min. Returned as reading-index pairs [first, last].
 */
export function mismatchRuns(tr: Trace, touched: Uint8Array, resKwh: number, judgeable?: Uint8Array): [number, number][] {
  const { t, p, eTrue } = tr;
  const out: [number, number][] = [];
  let first = -1;
  let count = 0;
  const flush = (endIdx: number) => {
    if (first >= 0 && count >= 2 && t[endIdx] - t[first] >= MISMATCH_MIN_MS) out.push([first, endIdx]);
    first = -1;
    count = 0;
  };
  for (let i = tr.w0; i + 1 < t.length; i++) {
    const dtH = (t[i + 1] - t[i]) / H;
    let disagree = false;
    if ((touched[i] || touched[i + 1]) && dtH > 0 && (!judgeable || judgeable[i])) {
      const slope = (eTrue[i + 1] - eTrue[i]) / dtH;
      const mean = (p[i] + p[i + 1]) / 2;
      // Power is an instantaneous sample and may step anywhere inside the interval: a slope within
      // the range of the two readings is explained. Beyond the tolerance by two register steps, so
      // that the register as sent shows it.
      const nearest = Math.min(Math.max(slope, Math.min(p[i], p[i + 1])), Math.max(p[i], p[i + 1]));
      const tol = (x: number) => Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(x, slope)) + (2 * resKwh) / dtH;
      disagree = mean > CHARGING_KW && slope > CHARGING_KW && Math.abs(mean - slope) > tol(mean) && Math.abs(nearest - slope) > tol(nearest);
    }
    if (disagree) {
      if (first < 0) first = i;
      count++;
    } else flush(i);
  }
  flush(t.length - 1);
  return out;
}

function frozenSeverity(tr: Trace, a: number, b: number): number {
  let worst = 1;
  for (let i = a; i <= b; i++) {
    if (tr.pTrue[i] <= 0) continue;
    const r = tr.p[i] / tr.pTrue[i];
    worst = Math.max(worst, r, 1 / r);
  }
  return clamp01(Math.log10(worst) / 1.5);
}
