// Local calendar days in an organization's time zone (IANA names, `Intl`): where a day starts in
// UTC, how many minutes it has (1380/1500 on DST days), its weekday, and the day before an instant.

const MINUTE_MS = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a zone. */
function wallClock(t: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return { y: +parts.year, mo: +parts.month, d: +parts.day, h: +parts.hour, mi: +parts.minute, s: +parts.second };
}

/** The zone's offset from UTC at an instant (ms; positive east of Greenwich). */
function offsetAt(t: number, timeZone: string): number {
  const w = wallClock(t, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
}

/** The UTC instant where a local date (YYYY-MM-DD) starts. */
export function localMidnight(day: string, timeZone: string): number {
  const [y, m, d] = day.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // Two rounds settle the offset on both sides of a DST change.
  let t = wall - offsetAt(wall, timeZone);
  t = wall - offsetAt(t, timeZone);
  return t;
}

/** The local clock time (HH:MM) of an instant. */
export function localClock(t: number, timeZone: string): string {
  const w = wallClock(t, timeZone);
  return `${String(w.h).padStart(2, '0')}:${String(w.mi).padStart(2, '0')}`;
}

/** The local date (YYYY-MM-DD) of an instant. */
export function localDate(t: number, timeZone: string): string {
  const w = wallClock(t, timeZone);
  return `${w.y}-${String(w.mo).padStart(2, '0')}-${String(w.d).padStart(2, '0')}`;
}

/** A calendar date `n` days after `day` (negative: before). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export interface LocalDay {
  day: string;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** UTC instant of the local midnight that starts the day (epoch ms). */
  start: number;
  /** Minutes in the day (1440; 1380 or 1500 on DST days). */
  minutes: number;
}

export function localDay(day: string, timeZone: string): LocalDay {
  const start = localMidnight(day, timeZone);
  const end = localMidnight(addDays(day, 1), timeZone);
  return { day, weekday: new Date(`${day}T00:00:00Z`).getUTCDay(), start, minutes: Math.round((end - start) / MINUTE_MS) };
}

/** The local day before the one an instant falls in (what a run scheduled after midnight analyses). */
export function previousLocalDay(t: number, timeZone: string): string {
  return addDays(localDate(t, timeZone), -1);
}
