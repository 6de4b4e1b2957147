// Robust baselines from a station's own history: per weekday and hour, the median and MAD of the
// station's energy, and a trimmed mean of session starts. Medians and MADs (not means and standard
// deviations) so that one past outage or one unusually busy day in the history does not move what
// "normal" means.
import type { HistoryDay } from '../../../domain/shade/types';

/**
 * Same-weekday history days needed before the detector judges a day against expectation
 * (outage by expectation, energy drop): three previous weeks. With fewer, the median of one or two
 * days is one day's accident, not a baseline, so those findings are not made at all.
 */
export const MIN_SAME_WEEKDAY_DAYS = 3;

/** MAD → standard deviation of a normal distribution. */
const MAD_TO_SIGMA = 1.4826;

export interface Baseline {
  /** Same-weekday days the baseline rests on. */
  days: number;
  /** Median station energy per local hour (Wh), 24 entries. */
  hourlyWh: number[];
  /** Median daily total (Wh) over the same-weekday days. */
  dayWh: number;
  /** Robust spread of the daily total (Wh): 1.4826 × MAD, at least what the pooled log spread implies. */
  daySigmaWh: number;
  /** Robust spread of ln(day total + 1 kWh), pooled over weekdays (see logSpread). */
  logSigma: number;
  /** How low a normal day gets, as a share of its weekday median (see lowShare). */
  lowShare: number | null;
  /** Expected session starts per local hour (mean of the same-weekday days without the largest). */
  startsPerHour: number[];
  /** Typical energy of one session (Wh) over the whole history, or null without sessions. */
  sessionWh: number | null;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function mad(xs: number[], m = median(xs)): number {
  return median(xs.map((x) => Math.abs(x - m)));
}

/**
 * Local hour index of a day with `hours` local hours (23/24/25) onto its clock hour 0–23. On a
 * 25-hour day the repeated hour (index 3 for the European 02:00 repeat) joins the hour before; on a
 * 23-hour day the skipped clock hour 02:00 stays empty. The US rule (01:00 repeated) is off by one
 * hour on two days a year, which a per-hour median does not notice.
 */
export function clockHour(hours: number, index: number): number {
  if (hours === 25) return index <= 2 ? index : index - 1;
  if (hours === 23) return index < 2 ? index : index + 1;
  return Math.min(23, index);
}

function clockHours(values: number[]): number[] {
  if (values.length === 24) return values;
  const out = new Array<number>(24).fill(0);
  for (let i = 0; i < values.length; i++) out[clockHour(values.length, i)] += values[i];
  return out;
}

/** The baseline for `weekday`, or null when the history holds fewer than MIN_SAME_WEEKDAY_DAYS such days. */
export function weekdayBaseline(history: HistoryDay[], weekday: number): Baseline | null {
  const same = history.filter((h) => h.weekday === weekday);
  let totalStarts = 0;
  let totalWh = 0;
  for (const h of history) {
    for (const s of h.sessionStarts) totalStarts += s;
    for (const w of h.hourlyWh) totalWh += w;
  }
  const sessionWh = totalStarts > 0 ? totalWh / totalStarts : null;
  if (same.length < MIN_SAME_WEEKDAY_DAYS) return null;
  const hours = same.map((h) => clockHours(h.hourlyWh));
  const starts = same.map((h) => clockHours(h.sessionStarts));
  const hourlyWh = new Array<number>(24);
  const startsPerHour = new Array<number>(24);
  for (let k = 0; k < 24; k++) {
    hourlyWh[k] = median(hours.map((h) => h[k]));
    // Counts are small integers: a median would call a 0.4-per-hour hour empty. A mean without the
    // largest value keeps the rate and drops one exceptional day.
    const col = starts.map((s) => s[k]).sort((a, b) => a - b);
    col.pop();
    startsPerHour[k] = col.reduce((a, b) => a + b, 0) / col.length;
  }
  const totals = hours.map((h) => h.reduce((a, b) => a + b, 0));
  const dayWh = median(totals);
  const logSigma = logSpread(history);
  return {
    days: same.length,
    hourlyWh,
    dayWh,
    daySigmaWh: Math.max(MAD_TO_SIGMA * mad(totals, dayWh), (Math.exp(logSigma) - 1) * dayWh),
    logSigma,
    lowShare: lowShare(history),
    startsPerHour,
    sessionWh,
  };
}

/**
 * The second-lowest day of the history as a share of its weekday's median (every weekday with
 * enough days): how low a normal day of this station gets. The second, not the lowest, so that one
 * past fault in the history does not excuse the next; null with fewer than 14 such days.
 */
function lowShare(history: HistoryDay[]): number | null {
  const shares: number[] = [];
  for (const xs of totalsByWeekday(history)) {
    const m = median(xs);
    if (m > 0) for (const x of xs) shares.push(x / m);
  }
  if (shares.length < 14) return null;
  shares.sort((a, b) => a - b);
  return shares[1];
}

/** The day totals (Wh) of each weekday that has enough days to judge by, in the history's order. */
function totalsByWeekday(history: HistoryDay[]): number[][] {
  const byWeekday = new Map<number, number[]>();
  for (const h of history) {
    let xs = byWeekday.get(h.weekday);
    if (!xs) byWeekday.set(h.weekday, (xs = []));
    xs.push(h.hourlyWh.reduce((a, b) => a + b, 0));
  }
  return [...byWeekday.values()].filter((xs) => xs.length >= MIN_SAME_WEEKDAY_DAYS);
}

/** Offset (Wh) of the log scale: a day of 0 kWh and a day of 0.2 kWh are equally empty. */
export const LOG_OFFSET_WH = 1000;

/**
 * Robust spread of ln(day total + 1 kWh): 1.4826 × MAD per weekday with enough days, the median over
 * weekdays. Pooled because eight days of one weekday give a MAD that is itself too noisy to judge
 * by; logarithmic because a station's days vary by a factor (a busy station ±30 %, a quiet one
 * between no session and three), not by a fixed amount.
 */
function logSpread(history: HistoryDay[]): number {
  return median(totalsByWeekday(history).map((xs) => MAD_TO_SIGMA * mad(xs.map((x) => Math.log(x + LOG_OFFSET_WH)))));
}
