// Slices of a simulated session (how the evaluation stratifies) and the hold-outs that keep whole
// slices out of training, so that generalisation is measured rather than assumed: a fixed set of
// vehicles, one sampling regime and one behaviour family.
import { loadVehicles } from './ev-data';
import { hashSeed } from './rng';
import type { SimSession } from './types';
import type { Vehicle } from './vehicle';

export const SLICE_KEYS = ['current', 'soc', 'power', 'interval', 'drive', 'register'] as const;
export type SliceKey = (typeof SLICE_KEYS)[number];

/**
 * The session's slice values: current `AC`|`DC`; soc `SoC`|`no SoC`; power `power`|`no power`;
 * interval (nominal) `≤ 1 min`|`1–5 min`|`5–15 min`; drive `BEV`|`PHEV`; register (as sent)
 * `Wh` (a Wh register, 1 Wh steps), `0.1 kWh` (0.1 kWh steps or coarser), `kWh fine` (kWh with
 * 0.01 or 0.001 kWh steps, OCPP 2.0.1 multipliers included) or `none` (power only).
 */
export function sessionSlices(s: SimSession): Record<SliceKey, string> {
  const p = s.profile;
  const iv = p.intervalMs;
  let register = 'none';
  if (p.measurands.includes('energy')) register = p.registerResolutionKwh >= 0.1 - 1e-9 ? '0.1 kWh' : p.quirks.includes('wh-register') ? 'Wh' : 'kWh fine';
  return {
    current: p.current,
    soc: p.measurands.includes('soc') ? 'SoC' : 'no SoC',
    power: p.measurands.includes('power') ? 'power' : 'no power',
    interval: iv <= 60_000 ? '≤ 1 min' : iv <= 300_000 ? '1–5 min' : '5–15 min',
    drive: p.drive === 'phev' ? 'PHEV' : 'BEV',
    register,
  };
}

export type HeldOutPart = 'vehicles' | 'sampling' | 'behaviour';

/**
 * The held-out parts.
 * - vehicles: ~12 % of ev-data.json, by a stable hash of the id, taken within each stratum (drive,
 *   DC or not, 1-phase AC or not, car or motorbike) so that BEVs, PHEVs, AC-only and 1-phase cars
 *   are all represented and every look-alike stays possible inside the hold-out.
 * - sampling: nominal reading interval 150–240 s (the 3- and 4-minute regimes), between the 2- and
 *   5-minute ones that training keeps: interpolation in the interval, not extrapolation.
 * - behaviour: 'wake-draw', a short low-power draw after the stop. It is a clean look-alike defined
 *   by the revised contract alone (not a resumption), so holding it out asks whether the models stay
 *   quiet on a pattern they never saw, without starving any anomaly category of training examples
 *   ('stall-resume' would remove most CHARGING_EXPECTED sessions without SoC, whose only evidence is
 *   the resumption).
 */
export const HOLDOUT = {
  vehicleShare: 0.12,
  samplingMs: [150_000, 240_000] as const,
  behaviour: 'wake-draw' as const,
};

const heldOutCache = new WeakMap<Vehicle[], Set<string>>();

/** The held-out vehicle ids of a vehicle list (stable: depends on the ids only). */
export function heldOutVehicleIds(vehicles: Vehicle[]): Set<string> {
  let ids = heldOutCache.get(vehicles);
  if (ids) return ids;
  const strata = new Map<string, Vehicle[]>();
  for (const v of vehicles) {
    const key = `${v.drive}/${v.dc ? 'dc' : 'ac'}/${v.acPhases === 1 ? '1p' : 'np'}/${v.kind}`;
    const list = strata.get(key) ?? [];
    list.push(v);
    strata.set(key, list);
  }
  ids = new Set();
  for (const list of strata.values()) {
    const ranked = [...new Set(list.map((v) => v.id))].sort((a, b) => hashSeed('holdout-vehicle', a) - hashSeed('holdout-vehicle', b) || (a < b ? -1 : 1));
    // Strata of one or two vehicles stay in training (a single vehicle cannot be both seen and unseen).
    const k = ranked.length >= 3 ? Math.max(1, Math.round(HOLDOUT.vehicleShare * ranked.length)) : 0;
    for (const id of ranked.slice(0, k)) ids.add(id);
  }
  heldOutCache.set(vehicles, ids);
  return ids;
}

/** Which held-out parts a session touches (empty: it may be used for training). */
export function heldOutParts(s: SimSession, heldOutIds: Set<string> = defaultHeldOutIds()): HeldOutPart[] {
  const out: HeldOutPart[] = [];
  if (heldOutIds.has(s.profile.vehicleId)) out.push('vehicles');
  const iv = s.profile.intervalMs;
  if (iv >= HOLDOUT.samplingMs[0] && iv <= HOLDOUT.samplingMs[1]) out.push('sampling');
  if (s.profile.behaviours.includes(HOLDOUT.behaviour)) out.push('behaviour');
  return out;
}

function defaultHeldOutIds(): Set<string> {
  return heldOutVehicleIds(loadVehicles());
}
