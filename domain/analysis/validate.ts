// Rejection rules for incoming OCPP meter values (ocpp-normalisation.md, rules 5–6 and the
// vocabulary). Anything that passes here can be stored; normalise() copes with the rest.
import type { RawMeterValue, ValidationIssue } from './types';

const MEASURAND_LIST = [
  // OCPP 1.6
  'Energy.Active.Import.Register',
  'Energy.Active.Export.Register',
  'Energy.Reactive.Import.Register',
  'Energy.Reactive.Export.Register',
  'Energy.Active.Import.Interval',
  'Energy.Active.Export.Interval',
  'Energy.Reactive.Import.Interval',
  'Energy.Reactive.Export.Interval',
  'Power.Active.Import',
  'Power.Active.Export',
  'Power.Offered',
  'Power.Reactive.Import',
  'Power.Reactive.Export',
  'Power.Factor',
  'Current.Import',
  'Current.Export',
  'Current.Offered',
  'Voltage',
  'Frequency',
  'Temperature',
  'SoC',
  'RPM',
  // OCPP 2.0.1 additions
  'Energy.Active.Net',
  'Energy.Reactive.Net',
  'Energy.Apparent.Net',
  'Energy.Apparent.Import',
  'Energy.Apparent.Export',
];
const UNIT_LIST = ['Wh', 'kWh', 'varh', 'kvarh', 'W', 'kW', 'VA', 'kVA', 'var', 'kvar', 'A', 'V', 'K', 'Celsius', 'Celcius', 'Fahrenheit', 'Percent', 'Hz', 'Hertz'];
const PHASE_LIST = ['L1', 'L2', 'L3', 'N', 'L1-N', 'L2-N', 'L3-N', 'L1-L2', 'L2-L3', 'L3-L1'];
const LOCATION_LIST = ['Outlet', 'Inlet', 'Cable', 'EV', 'Body', 'Upstream'];
const CONTEXT_LIST = [
  'Sample.Periodic',
  'Sample.Clock',
  'Transaction.Begin',
  'Transaction.End',
  'Trigger',
  'Interruption.Begin',
  'Interruption.End',
  'Other',
];

/** Lower-case lookup → canonical spelling. Matching is case-insensitive: clients send `kwh`, `l1`, `outlet`. */
function vocabulary(list: string[]): ReadonlyMap<string, string> {
  // Exact spellings too, so the common case needs no toLowerCase().
  return new Map([...list.map((s): [string, string] => [s.toLowerCase(), s]), ...list.map((s): [string, string] => [s, s])]);
}

export const MEASURANDS = vocabulary(MEASURAND_LIST);
export const UNITS = vocabulary(UNIT_LIST);
export const PHASES = vocabulary(PHASE_LIST);
export const LOCATIONS = vocabulary(LOCATION_LIST);
export const CONTEXTS = vocabulary(CONTEXT_LIST);

/**
 * The canonical spelling of an optional vocabulary value: `null` when absent (null, undefined or
 * blank: many clients send "" for "not set"), `undefined` when it is not in the vocabulary.
 */
export function canonical(vocab: ReadonlyMap<string, string>, v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return undefined;
  const exact = vocab.get(v);
  if (exact !== undefined) return exact;
  const s = v.trim();
  if (s === '') return null;
  return vocab.get(s.toLowerCase());
}

export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
export const MAX_FUTURE_MS = 24 * 3600 * 1000;
export const MAX_VALUE = 10_000_000_000;

// Only what PostgreSQL parses too (a session's first and last timestamps reach it as text):
// ASCII whitespace, a dot before the fraction. Unicode spaces or a comma would fail there.
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?[ \t]*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;
const ASCII_SPACE_AROUND = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/**
 * An ISO 8601 date-time taken apart by `decompose`: whole seconds since the Unix epoch (UTC) and
 * where the fraction's digits are in `src` (an empty span: no fraction). One scratch object, reused:
 * a batch takes millions of timestamps apart.
 */
const parts = { seconds: 0, src: '', fracFrom: 0, fracTo: 0 };

/**
 * ISO 8601 date-time → epoch ms, or null. An explicit offset (`Z`, `+10:00`, `+1000`, `+10`) is
 * required: a bare local time cannot be placed in UTC. Fractions beyond milliseconds are truncated,
 * after rounding to microseconds as PostgreSQL does (so readings analysed as sent and as stored agree).
 */
export function parseTimestamp(s: unknown): number | null {
  if (!decompose(s)) return null;
  const { src, fracFrom, fracTo } = parts;
  if (fracTo - fracFrom > 6) return Math.floor(micros() / 1000);
  let ms = 0;
  for (let k = 0; k < 3; k++) ms = ms * 10 + (fracFrom + k < fracTo ? src.charCodeAt(fracFrom + k) - 48 : 0);
  return parts.seconds * 1000 + ms;
}

/**
 * A valid timestamp (see `parseTimestamp`) → microseconds since the Unix epoch, rounded as
 * PostgreSQL rounds what it stores: the fraction read as a double, times 10⁶, to the nearest
 * integer with ties to even (`rint`). Binary COPY hands PostgreSQL this number instead of the text.
 */
export function timestampMicros(s: unknown): number | null {
  return decompose(s) ? micros() : null;
}

/** Microseconds of the timestamp in `parts`. */
function micros(): number {
  const { src, fracFrom, fracTo } = parts;
  let us = 0;
  if (fracTo - fracFrom <= 6) {
    for (let k = 0; k < 6; k++) us = us * 10 + (fracFrom + k < fracTo ? src.charCodeAt(fracFrom + k) - 48 : 0);
  } else {
    us = roundHalfEven(Number(src.slice(fracFrom - 1, fracTo)) * 1e6);
  }
  return parts.seconds * 1e6 + us;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/** Fills `parts` from a timestamp; false if it is not a valid ISO 8601 date-time with an offset. */
function decompose(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const fast = decomposeCommon(s);
  if (fast !== undefined) return fast;
  const t = s.replace(ASCII_SPACE_AROUND, '');
  const m = ISO_RE.exec(t);
  if (!m) return false;
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const sec = ss === undefined ? 0 : Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return false;
  let offsetMin = 0;
  if (!z) {
    const oh = Number(ohs);
    const om = oms === undefined ? 0 : Number(oms);
    // PostgreSQL (where readings are stored) accepts offsets up to ±15:59; real ones stop at +14:00.
    if (oh > 15 || om > 59) return false;
    offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  let utc = Date.UTC(y, mo - 1, d, h, mi, sec);
  if (y < 100) {
    // Date.UTC maps years 0–99 to 19xx; setUTCFullYear keeps them literal.
    const date = new Date(utc);
    date.setUTCFullYear(y);
    utc = date.getTime();
  }
  parts.seconds = utc / 1000 - offsetMin * 60;
  parts.src = t;
  // The only '.' a matching timestamp can hold starts its fraction.
  parts.fracFrom = frac === undefined ? 0 : t.indexOf('.') + 1;
  parts.fracTo = frac === undefined ? 0 : parts.fracFrom + frac.length;
  return true;
}

/**
 * Fast path for the shape nearly every client and the database send,
 * `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; undefined for anything else (the regex decides).
 */
function decomposeCommon(s: string): boolean | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return undefined;
  }
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 100 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return undefined;
  let i = 19;
  let fracFrom = 0;
  let fracTo = 0;
  if (s.charCodeAt(i) === 46) {
    fracFrom = ++i;
    for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i));
    if (i === fracFrom) return undefined;
    fracTo = i;
  }
  let offsetMin = 0;
  const c = s.charCodeAt(i);
  if (c === 90 && i + 1 === n) {
    // Z
  } else if ((c === 43 || c === 45) && i + 6 === n && s.charCodeAt(i + 3) === 58) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0) return undefined;
    if (oh > 15 || om > 59) return false;
    offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
  } else return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return false;
  parts.seconds = Date.UTC(y, mo - 1, d, h, mi, sec) / 1000 - offsetMin * 60;
  parts.src = s;
  parts.fracFrom = fracFrom;
  parts.fracTo = fracTo;
  return true;
}

/** The decimal number in s[from, from + len), or -1 if any character is not a digit. */
function digits(s: string, from: number, len: number): number {
  let v = 0;
  for (let i = from; i < from + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(y: number, mo: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** The vocabulary fields of a meter value (built once: a batch checks millions of readings). */
const VOCABULARY_CHECKS: readonly (readonly [keyof RawMeterValue, ReadonlyMap<string, string>, string])[] = [
  ['measurand', MEASURANDS, 'OCPP 1.6/2.0.1 measurand'],
  ['unit', UNITS, 'OCPP unit of measure'],
  ['phase', PHASES, 'OCPP phase'],
  ['location', LOCATIONS, 'OCPP location'],
  ['context', CONTEXTS, 'OCPP reading context'],
];

/**
 * Every reason to reject a request's meter values (a 422 names index and field). `now` is a
 * parameter so tests and replays are deterministic.
 */
export function validateMeterValues(values: RawMeterValue[], now: Date): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const latest = now.getTime() + MAX_FUTURE_MS;
  let index = 0;
  const add = (field: keyof RawMeterValue, message: string) => issues.push({ index, field, message });
  for (; index < values.length; index++) {
    const mv = values[index];
    if (mv === null || typeof mv !== 'object') {
      add('value', 'meter value must be an object');
      continue;
    }

    const t = parseTimestamp(mv.timestamp);
    if (t === null) {
      add('timestamp', `timestamp ${JSON.stringify(mv.timestamp)} is not an ISO 8601 date-time with a UTC offset (e.g. 2026-02-27T10:00:00Z or +10:00)`);
    } else if (t < MIN_TIMESTAMP_MS) {
      add('timestamp', `timestamp ${mv.timestamp} is before 2000-01-01 (the charger's clock was probably not set)`);
    } else if (t > latest) {
      add('timestamp', `timestamp ${mv.timestamp} is more than a day in the future`);
    }

    if (typeof mv.value !== 'number' || !Number.isFinite(mv.value)) {
      add('value', 'value must be a finite number');
    } else if (mv.value < 0 || mv.value > MAX_VALUE) {
      add('value', `value ${mv.value} is outside 0 to 10,000,000,000`);
    }

    for (const [field, vocab, what] of VOCABULARY_CHECKS) {
      if (canonical(vocab, mv[field]) === undefined) add(field, `${JSON.stringify(mv[field])} is not a known ${what}`);
    }

    const mult = mv.multiplier;
    if (mult !== null && mult !== undefined && !(Number.isInteger(mult) && mult >= -9 && mult <= 9)) {
      add('multiplier', `multiplier ${JSON.stringify(mult)} must be an integer from -9 to 9`);
    }
  }
  return issues;
}
