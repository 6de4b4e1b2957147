// Detection metrics against the simulator's ground truth, shared by calibration (validation
// corpus) and evaluation (held-out corpus), so that both measure the same thing:
//   - per category, session level: a category is predicted for a session when at least one
//     anomaly of it is reported; precision / recall / F1 over (session, category) pairs;
//   - IoU of bucket ranges: for each true-positive (session, category), the union of reported
//     buckets against the union of true buckets;
//   - false-positive rate on clean sessions: clean sessions with any anomaly reported;
//   - ECE of `confidence`: each reported anomaly is correct when it overlaps a true range of its
//     category; 10 equal-width bins;
//   - the same per slice of the simulator (AC/DC, SoC or not, …: `SlicedMetrics`), where a slice
//     may lack a category altogether: macro-F1 and the worst category then cover the categories
//     the slice shows or the detector reports (a category neither present nor reported has no F1);
//   - SORC's SoC reconstruction against the SoC the session really reported (`SorcAccumulator`).
import { ANOMALY_CATEGORIES, type Anomaly, type AnomalyCategory } from '../../domain/analysis/types';

export interface Range {
  start: number;
  end: number;
}

export type TruthRanges = Partial<Record<AnomalyCategory, Range[]>>;

/** Sorted, merged copy of ranges. */
export function merged(ranges: Range[]): Range[] {
  const s = [...ranges].sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

function size(rs: Range[]): number {
  return rs.reduce((n, r) => n + r.end - r.start + 1, 0);
}

/** |A ∩ B| / |A ∪ B| of two bucket sets given as ranges. */
export function iou(a: Range[], b: Range[]): number {
  const A = merged(a);
  const B = merged(b);
  let inter = 0;
  let i = 0;
  let j = 0;
  while (i < A.length && j < B.length) {
    const lo = Math.max(A[i].start, B[j].start);
    const hi = Math.min(A[i].end, B[j].end);
    if (hi >= lo) inter += hi - lo + 1;
    if (A[i].end < B[j].end) i++;
    else j++;
  }
  const union = size(A) + size(B) - inter;
  return union > 0 ? inter / union : 0;
}

export function overlapsAny(r: Range, rs: Range[] | undefined): boolean {
  return !!rs && rs.some((x) => x.start <= r.end && r.start <= x.end);
}

/** The contract's rule applied by the analysis to every detector: ZERO_SESSION excludes CHARGING_EXPECTED. */
export function contractFilter(anomalies: Anomaly[]): Anomaly[] {
  return anomalies.some((a) => a.category === 'ZERO_SESSION') ? anomalies.filter((a) => a.category !== 'CHARGING_EXPECTED') : anomalies;
}

export interface CategoryMetrics {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  /** NaN without a true positive. */
  meanIou: number;
}

export interface Metrics {
  sessions: number;
  /** Sessions with at least one true anomaly. */
  anomalous: number;
  perCategory: Record<AnomalyCategory, CategoryMetrics>;
  /** Mean F1 over the categories present or reported (all seven on a full corpus). */
  macroF1: number;
  /** The worst of those categories and its F1 (NaN and null when there is none). */
  minCategoryF1: number;
  minCategory: AnomalyCategory | null;
  cleanSessions: number;
  cleanFalsePositiveRate: number;
  meanIou: number;
  ece: number;
  anomaliesReported: number;
  reliability: { bin: string; count: number; meanConfidence: number; accuracy: number }[];
}

export class MetricsAccumulator {
  private tp = new Map<AnomalyCategory, number>();
  private fp = new Map<AnomalyCategory, number>();
  private fn = new Map<AnomalyCategory, number>();
  private ious = new Map<AnomalyCategory, number[]>();
  private conf: number[] = [];
  private correct: number[] = [];
  private sessions = 0;
  private anomalous = 0;
  private clean = 0;
  private cleanFp = 0;

  add(truth: TruthRanges, clean: boolean, reported: Anomaly[]): void {
    this.sessions++;
    if (ANOMALY_CATEGORIES.some((c) => truth[c]?.length)) this.anomalous++;
    if (clean) {
      this.clean++;
      if (reported.length) this.cleanFp++;
    }
    for (const c of ANOMALY_CATEGORIES) {
      const pred = reported.filter((a) => a.category === c).map((a) => ({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit }));
      const tr = truth[c] ?? [];
      if (pred.length && tr.length) {
        inc(this.tp, c);
        const list = this.ious.get(c) ?? [];
        list.push(iou(pred, tr));
        this.ious.set(c, list);
      } else if (pred.length) inc(this.fp, c);
      else if (tr.length) inc(this.fn, c);
    }
    for (const a of reported) {
      this.conf.push(a.confidence);
      this.correct.push(overlapsAny({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit }, truth[a.category]) ? 1 : 0);
    }
  }

  result(): Metrics {
    const perCategory = {} as Record<AnomalyCategory, CategoryMetrics>;
    const allIou: number[] = [];
    for (const c of ANOMALY_CATEGORIES) {
      const tp = this.tp.get(c) ?? 0;
      const fp = this.fp.get(c) ?? 0;
      const fn = this.fn.get(c) ?? 0;
      const ious = this.ious.get(c) ?? [];
      allIou.push(...ious);
      const precision = tp + fp ? tp / (tp + fp) : 0;
      const recall = tp + fn ? tp / (tp + fn) : 0;
      perCategory[c] = { tp, fp, fn, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, meanIou: ious.length ? mean(ious) : NaN };
    }
    const { ece, bins } = expectedCalibrationError(this.conf, this.correct);
    const scored = ANOMALY_CATEGORIES.filter((c) => perCategory[c].tp + perCategory[c].fp + perCategory[c].fn > 0);
    const worst = scored.reduce<AnomalyCategory | null>((w, c) => (w === null || perCategory[c].f1 < perCategory[w].f1 ? c : w), null);
    return {
      sessions: this.sessions,
      anomalous: this.anomalous,
      perCategory,
      macroF1: scored.length ? mean(scored.map((c) => perCategory[c].f1)) : NaN,
      minCategoryF1: worst ? perCategory[worst].f1 : NaN,
      minCategory: worst,
      cleanSessions: this.clean,
      cleanFalsePositiveRate: this.clean ? this.cleanFp / this.clean : 0,
      meanIou: allIou.length ? mean(allIou) : NaN,
      ece,
      anomaliesReported: this.conf.length,
      reliability: bins,
    };
  }
}

export function expectedCalibrationError(conf: number[], correct: number[], nBins = 10): { ece: number; bins: Metrics['reliability'] } {
  const bins: Metrics['reliability'] = [];
  let total = 0;
  for (let k = 0; k < nBins; k++) {
    const lo = k / nBins;
    const hi = (k + 1) / nBins;
    let n = 0;
    let sc = 0;
    let sa = 0;
    for (let i = 0; i < conf.length; i++) {
      if (conf[i] >= lo && (conf[i] < hi || (k === nBins - 1 && conf[i] <= 1))) {
        n++;
        sc += conf[i];
        sa += correct[i];
      }
    }
    if (n) {
      bins.push({ bin: `${lo.toFixed(1)}–${hi.toFixed(1)}`, count: n, meanConfidence: sc / n, accuracy: sa / n });
      total += n * Math.abs(sc / n - sa / n);
    }
  }
  return { ece: conf.length ? total / conf.length : 0, bins };
}

function inc(m: Map<AnomalyCategory, number>, c: AnomalyCategory): void {
  m.set(c, (m.get(c) ?? 0) + 1);
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * One accumulator for the whole corpus and one per (slice key, value) of it, e.g. `current`: `AC`.
 * `of(slices)` returns every accumulator a session counts in.
 */
export class BySlice<A> {
  readonly all: A;
  private readonly groups = new Map<string, Map<string, A>>();

  constructor(private readonly make: () => A) {
    this.all = make();
  }

  of(slices: Record<string, string>): A[] {
    const out = [this.all];
    for (const [key, value] of Object.entries(slices)) {
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = new Map()));
      let a = g.get(value);
      if (!a) g.set(value, (a = this.make()));
      out.push(a);
    }
    return out;
  }

  /** Slice keys in first-seen order, values in natural order ("1–5 min" before "5–15 min"). */
  entries(): { key: string; value: string; acc: A }[] {
    const out: { key: string; value: string; acc: A }[] = [];
    for (const [key, g] of this.groups) {
      const values = [...g.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      for (const value of values) out.push({ key, value, acc: g.get(value)! });
    }
    return out;
  }
}

/** SORC on one session whose SoC was hidden from it, against the SoC the session reported. */
export interface SorcSessionResult {
  /** Mean |reconstructed − reported SoC| over the compared buckets (points). */
  meanAbsError: number;
  /** The same at the last compared bucket. */
  finalAbsError: number;
  /** Share of the compared buckets within 10 points. */
  within10: number;
  /** The session's claimed sorcConfidence (= P(|error| ≤ 10)), null when none was given. */
  confidence: number | null;
  /** The reconstruction falls ≥ 5 points while energy flows in. */
  fallsWhileCharging: boolean;
  /** It rises ≥ 10 points while no energy flows. */
  risesWhileIdle: boolean;
  /** A value outside 0–100. */
  outOfRange: boolean;
}

/**
 * Compares a reconstruction (values at `buckets`) with the true SoC per bucket (NaN where unknown),
 * and checks it against the energy delivered (`energyAt(bucket)`, kWh, cumulative): null when no
 * bucket can be compared.
 */
export function sorcSessionResult(
  buckets: number[],
  values: number[],
  target: ArrayLike<number>,
  confidence: number | null,
  energyAt: (bucket: number) => number,
): SorcSessionResult | null {
  const err: number[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const want = target[buckets[i]];
    if (want !== undefined && !Number.isNaN(want)) err.push(Math.abs(values[i] - want));
  }
  if (!err.length) return null;
  // Over consecutive points: the largest drop within a stretch of flowing energy, and the largest
  // rise within a stretch of none (flat register: < 0.01 kWh between the points).
  let fall = 0;
  let rise = 0;
  let hi = values[0];
  let lo = values[0];
  for (let i = 1; i < buckets.length; i++) {
    const flows = energyAt(buckets[i]) - energyAt(buckets[i - 1]) >= 0.01;
    if (flows) {
      hi = Math.max(hi, values[i - 1]);
      fall = Math.max(fall, hi - values[i]);
      lo = values[i];
    } else {
      lo = Math.min(lo, values[i - 1]);
      rise = Math.max(rise, values[i] - lo);
      hi = values[i];
    }
  }
  return {
    meanAbsError: mean(err),
    finalAbsError: err[err.length - 1],
    within10: mean(err.map((e) => (e <= 10 ? 1 : 0))),
    confidence,
    fallsWhileCharging: fall >= 5,
    risesWhileIdle: rise >= 10,
    outOfRange: values.some((v) => v < 0 || v > 100),
  };
}

export interface SorcMetrics {
  sessions: number;
  /** Means over sessions of each session's figure. */
  meanAbsError: number;
  medianAbsError: number;
  finalAbsError: number;
  within10: number;
  /** Mean claimed confidence, and the ECE of the claims against each session's share within 10 points. */
  meanConfidence: number;
  confidenceEce: number;
  /** Shares of sessions breaking physics. */
  fallsWhileCharging: number;
  risesWhileIdle: number;
  outOfRange: number;
}

export class SorcAccumulator {
  private readonly rs: SorcSessionResult[] = [];

  add(r: SorcSessionResult): void {
    this.rs.push(r);
  }

  result(): SorcMetrics {
    const rs = this.rs;
    const share = (f: (r: SorcSessionResult) => boolean) => mean(rs.map((r) => (f(r) ? 1 : 0)));
    const claimed = rs.filter((r) => r.confidence !== null);
    return {
      sessions: rs.length,
      meanAbsError: mean(rs.map((r) => r.meanAbsError)),
      medianAbsError: quantile(rs.map((r) => r.meanAbsError).sort((a, b) => a - b), 0.5),
      finalAbsError: mean(rs.map((r) => r.finalAbsError)),
      within10: mean(rs.map((r) => r.within10)),
      meanConfidence: claimed.length ? mean(claimed.map((r) => r.confidence!)) : NaN,
      confidenceEce: claimed.length ? expectedCalibrationError(claimed.map((r) => r.confidence!), claimed.map((r) => r.within10)).ece : NaN,
      fallsWhileCharging: share((r) => r.fallsWhileCharging),
      risesWhileIdle: share((r) => r.risesWhileIdle),
      outOfRange: share((r) => r.outOfRange),
    };
  }
}

/** Area under the ROC curve by the rank-sum statistic, ties sharing their mean rank; NaN without both classes. */
export function auroc(scores: number[], positive: (boolean | number)[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && scores[idx[j]] === scores[idx[i]]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (positive[idx[k]]) rankSum += rank;
    i = j;
  }
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : NaN;
}
