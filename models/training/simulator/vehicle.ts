// Vehicles as open-ev-data describes them (models/data/ev-data.json, MIT): battery, what the car
// draws at an AC point of a given rating, and its DC charging curve by state of charge. Pure: the
// file is read by ev-data.ts.

export interface Vehicle {
  id: string;
  /** "Brand Model Variant (year)". */
  name: string;
  kind: 'car' | 'motorbike';
  drive: 'bev' | 'phev';
  batteryKwh: number;
  acPhases: 1 | 2 | 3;
  acMaxKw: number;
  /** AC power drawn at a charge point of a given rating; keys as in the data ("3.7", "11", "22"). */
  acByRating: Record<string, number>;
  dc: { maxKw: number; ports: string[]; curve: { soc: number; kw: number }[] } | null;
}

/** The DC floor: chargers do not regulate below this (and some curves end at 0 kW at 100 %). */
const DC_MIN_KW = 1.5;

export function parseEvData(json: unknown): Vehicle[] {
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new Error('ev-data.json: no "data" array');
  const out: Vehicle[] = [];
  for (const raw of data as Record<string, unknown>[]) {
    const ac = raw.ac_charger as Record<string, unknown> | null | undefined;
    const battery = Number(raw.usable_battery_size);
    if (!ac || !(battery > 0) || !(Number(ac.max_power) > 0)) continue;
    const phases = Number(ac.usable_phases);
    const byRating: Record<string, number> = {};
    const ppcp = (ac.power_per_charging_point ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(ppcp)) if (Number(v) > 0) byRating[String(Number(k))] = Number(v);
    const dcRaw = raw.dc_charger as Record<string, unknown> | null | undefined;
    let dc: Vehicle['dc'] = null;
    const curveRaw = dcRaw?.charging_curve;
    if (dcRaw && Number(dcRaw.max_power) > 0 && Array.isArray(curveRaw) && curveRaw.length >= 2) {
      const curve = (curveRaw as { percentage: unknown; power: unknown }[])
        .map((p) => ({ soc: Number(p.percentage), kw: Number(p.power) }))
        .filter((p) => Number.isFinite(p.soc) && Number.isFinite(p.kw))
        .sort((a, b) => a.soc - b.soc);
      if (curve.length >= 2) dc = { maxKw: Number(dcRaw.max_power), ports: (dcRaw.ports as string[]) ?? [], curve };
    }
    const variant = typeof raw.variant === 'string' && raw.variant.trim() ? ` ${raw.variant.trim()}` : '';
    out.push({
      id: String(raw.id),
      name: `${raw.brand} ${raw.model}${variant} (${raw.release_year})`,
      kind: raw.vehicle_type === 'motorbike' ? 'motorbike' : 'car',
      drive: raw.type === 'phev' ? 'phev' : 'bev',
      batteryKwh: battery,
      acPhases: phases === 1 || phases === 2 ? phases : 3,
      acMaxKw: Number(ac.max_power),
      acByRating: byRating,
      dc,
    });
  }
  return out;
}

/** What the car draws at an AC point of this rating (the data's table, else the smaller of the two). */
export function acPowerKw(v: Vehicle, ratingKw: number): number {
  return v.acByRating[String(ratingKw)] ?? Math.min(v.acMaxKw, ratingKw);
}

/** Phases the car charges on at a point with `stationPhases` supply phases. */
export function acPhasesUsed(v: Vehicle, stationPhases: number): number {
  return Math.min(v.acPhases, stationPhases);
}

/** DC power the car accepts at this SoC: its curve, linearly interpolated, capped at its DC maximum. */
export function dcCurveKw(v: Vehicle, soc: number): number {
  const dc = v.dc;
  if (!dc) return 0;
  const c = dc.curve;
  let kw: number;
  if (soc <= c[0].soc) kw = c[0].kw;
  else if (soc >= c[c.length - 1].soc) kw = c[c.length - 1].kw;
  else {
    let i = 1;
    while (c[i].soc < soc) i++;
    const a = c[i - 1];
    const b = c[i];
    kw = b.soc === a.soc ? b.kw : a.kw + ((b.kw - a.kw) * (soc - a.soc)) / (b.soc - a.soc);
  }
  return Math.max(DC_MIN_KW, Math.min(kw, dc.maxKw));
}
