// A chunk's readings as PostgreSQL hands them back: one JSON text per session (an array of
// [seq, epoch ms, value, measurand, unit, phase, location, context, format, multiplier,
// reconstructed] rows). Parsing one string per session costs a fraction of decoding 96 pg rows
// per session on the worker's event loop, which the chunk lanes share with the analysis.
import type { StoredMeterValue } from '../analysis/types';
import { verdictsFor, type Verdict } from '../sessions/analysis';

export interface SessionText {
  readings: string;
  metadata: Record<string, unknown> | null;
}

/** The select list that produces `readings` for the rows of meter_values `m` of one session. */
export const READINGS_JSON = `json_agg(json_build_array(m.seq, (extract(epoch from m.timestamp) * 1000)::float8, m.value, m.measurand, m.unit,
    m.phase, m.location, m.context, m.format, m.multiplier, m.reconstructed) order by m.seq)::text`;

export function parseReadings(text: string): StoredMeterValue[] {
  const rows = JSON.parse(text) as unknown[][];
  const out: StoredMeterValue[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out[i] = {
      seq: r[0] as number,
      timestamp: new Date(r[1] as number).toISOString(),
      value: r[2] as number,
      measurand: r[3] as string,
      unit: r[4] as string | null,
      phase: r[5] as string | null,
      location: r[6] as string | null,
      context: r[7] as string | null,
      format: r[8] as string | null,
      multiplier: r[9] as number | null,
      reconstructed: r[10] as boolean,
    } as StoredMeterValue;
  }
  return out;
}

/** Verdicts of sessions given as readings texts. */
export function verdictsForTexts(sessions: SessionText[]): Promise<Verdict[]> {
  return verdictsFor(sessions.map((s) => ({ readings: parseReadings(s.readings), metadata: s.metadata })));
}
