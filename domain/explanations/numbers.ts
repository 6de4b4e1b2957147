// The numbers check of an LLM answer: every number it writes must be one the tools returned (or the
// detection contract states), up to the answer's own rounding. Dates, times, list markers and the
// digits inside identifiers are left out. The outcome is stored with the explanation.
import type { NumbersCheck } from '../../workflows/explanation/contract';

const DATE_TIME = /\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g;
const TIME = /\b\d{1,2}:\d{2}(?::\d{2})?\b/g;
const LIST_MARKER = /^(\s*)\d+[.)](?=\s)/gm;
/** Standards and protocol versions are names, not figures. */
const NAMES = /\b(?:ISO|IEC|OCPP|EN)\s?\d+(?:[.-]\d+)*\b/gi;
/** A number standing alone: not part of an identifier (`CP-0042`, `L1`), with `.` or `,` decimals. */
const NUMBER = /(?<![\p{L}\d_./:-])(\d+(?:[.,]\d+)*)(?![\d_/:]|[.,]\d)/gu;
const SOURCE_NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** The numbers a text of tool results holds, with fractions in [0, 1] also as percentages. */
export function sourceNumbers(texts: string[]): number[] {
  const out = new Set<number>();
  for (const t of texts) {
    for (const m of t.matchAll(SOURCE_NUMBER)) {
      const n = Number(m[0]);
      if (!Number.isFinite(n)) continue;
      out.add(n);
      if (n <= 1) out.add(n * 100);
    }
  }
  return [...out];
}

/** The readings of one written number: `5,5` may be 5.5 or (in English) 5500 written with a separator. */
function readings(raw: string): { value: number; decimals: number }[] {
  const out: { value: number; decimals: number }[] = [];
  const parts = raw.split(/[.,]/);
  if (parts.length === 1) return [{ value: Number(raw), decimals: 0 }];
  if (parts.length === 2) out.push({ value: Number(`${parts[0]}.${parts[1]}`), decimals: parts[1].length });
  // Thousands separators: every group after the first has three digits.
  if (parts.slice(1).every((p) => p.length === 3)) out.push({ value: Number(parts.join('')), decimals: 0 });
  return out;
}

export function checkNumbers(answer: string, sources: string[]): NumbersCheck {
  const known = sourceNumbers(sources);
  const text = answer.replace(DATE_TIME, ' ').replace(TIME, ' ').replace(NAMES, ' ').replace(LIST_MARKER, '$1');
  let checked = 0;
  let supported = 0;
  const unsupported: string[] = [];
  for (const m of text.matchAll(NUMBER)) {
    checked++;
    const ok = readings(m[1]).some(({ value, decimals }) => {
      const tolerance = 0.5 * 10 ** -decimals + 1e-9;
      return known.some((n) => Math.abs(n - value) <= tolerance);
    });
    if (ok) supported++;
    else if (!unsupported.includes(m[1]) && unsupported.length < 50) unsupported.push(m[1]);
  }
  return { checked, supported, unsupported, ok: unsupported.length === 0 };
}
