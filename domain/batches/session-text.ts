// A batch session's JSON text, read the same way at submit (before the schema checks it) and by the
// chunk that processes it: the staged text is the client's own bytes, so the chunk must read them
// exactly as the submit did for what it validated to be what it analyses.
import type { RawMeterValue } from '../analysis/types';
import { camelizeKeys } from '../camel-case';

/** Parsed, snake_case keys camelized as for every request; throws on malformed JSON. */
export function parseSessionText(text: string): unknown {
  // A key that needs camelizing has an underscore; most bodies have none at all.
  return text.includes('_') ? camelizeKeys(JSON.parse(text)) : JSON.parse(text);
}

/** The readings of a staged session (validated at submit; only the fields a reading has are read from each). */
export function stagedMeterValues(text: string): RawMeterValue[] {
  const session = parseSessionText(text) as { meterValues?: RawMeterValue[] } | null;
  const readings = session?.meterValues;
  if (!Array.isArray(readings)) throw new Error('a staged batch session has no meterValues array');
  return readings;
}
