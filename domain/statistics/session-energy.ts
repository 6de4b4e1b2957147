// A session's delivered and unbilled energy from its readings, the basis of the revenue figures of
// `GET /v1/statistics`. Pure: the verdict writer stores it with each analysis
// (domain/sessions/analysis.ts), and the statistics sweep fills what older analyses lack.
import { normalise } from '../analysis/normalise';
import { integrate } from '../analysis/physics-detector';
import type { Series, StoredMeterValue } from '../analysis/types';

/** A fall of the register that comes back to its previous maximum within this is a pit (anomaly-categories.md). */
const PIT_RECOVERY_MS = 2 * 60_000;

export interface SessionEnergy {
  /** Energy the session delivered (kWh). */
  deliveredKwh: number;
  /**
   * Delivered energy that billing by the register's difference (last reading − first) does not
   * charge for: what a register that fell and stayed down (a reset, a swapped meter) hides.
   */
  unbilledKwh: number;
}

/**
 * Delivered energy from the energy register: every rise counts, except what only recovers a fall
 * that comes back to its previous maximum within 2 minutes (a pit, or reading noise): that energy
 * was counted before the fall. A fall that has not recovered 2 minutes later (a reset, a swapped
 * meter) is a new register level: its rises since the fall count. Without a register, the
 * trapezoid integral of power.
 */
function sessionEnergyRaw(readings: StoredMeterValue[]): SessionEnergy {
  const { energy: E, power: P } = normalise(readings);
  if (E.t.length === 0) {
    const kwh = integrate(P);
    return { deliveredKwh: kwh, unbilledKwh: 0 };
  }
  const delivered = registerSteps(E).reduce((sum, kwh) => sum + kwh, 0);
  const billable = Math.max(0, E.v[E.v.length - 1] - E.v[0]);
  return { deliveredKwh: delivered, unbilledKwh: Math.max(0, delivered - billable) };
}

/**
 * The delivered kWh of each step of the register (step k: from reading k to k + 1), by the rule
 * above: the one rule of a session's energy, for its total here and for the station rollups'
 * energy per minute (domain/stations/rollups.ts). Rises during an open fall wait: a recovery drops
 * them (only what lies above the old maximum counts, on the recovering step); a fall that lasts,
 * or is still open at the last reading, keeps them on their own steps.
 */
export function registerSteps(E: Series): number[] {
  const steps = new Array<number>(Math.max(0, E.v.length - 1)).fill(0);
  let hi = E.v[0];
  // An open fall: when it began, the maximum before it, and the steps that rose since.
  let fall: { t: number; hi: number; rising: number[] } | null = null;
  const keepRises = (f: { rising: number[] }) => {
    for (const k of f.rising) steps[k] = E.v[k + 1] - E.v[k];
  };
  for (let i = 1; i < E.v.length; i++) {
    const d = E.v[i] - E.v[i - 1];
    if (fall) {
      if (d < 0) continue;
      if (E.v[i] >= fall.hi) {
        steps[i - 1] = E.v[i] - fall.hi; // recovered: only what lies above the old maximum is new
        hi = E.v[i];
        fall = null;
      } else if (E.t[i] - fall.t <= PIT_RECOVERY_MS) {
        fall.rising.push(i - 1);
      } else {
        keepRises(fall); // lasted: a new register level
        steps[i - 1] = d;
        hi = E.v[i];
        fall = null;
      }
    } else if (d < 0) {
      fall = { t: E.t[i], hi, rising: [] };
    } else {
      steps[i - 1] = d;
      hi = E.v[i];
    }
  }
  // A fall still open at the last reading did not recover: its rises were delivered.
  if (fall) keepRises(fall);
  return steps;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** A session's energy figures as stored (rounded to the µkWh). */
export function sessionEnergy(readings: StoredMeterValue[]): SessionEnergy {
  const e = sessionEnergyRaw(readings);
  return { deliveredKwh: round6(e.deliveredKwh), unbilledKwh: round6(e.unbilledKwh) };
}
