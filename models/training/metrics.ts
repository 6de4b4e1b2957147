// Detection metrics against the simulator's ground truth, shared by calibration (validation
// corpus) and evaluation (held-out corpus), so that both measure the same thing:
//   - per category, session level: a category is predicted for a session when at least one
//     anomaly of it is reported; precision / recall / F1 over (session, category) pairs;
//   - IoU of bucket ranges: for each true-positive (session, category), the union of reported
//     buckets against the union of true buckets;
//   - false-positive rate on clean sessions: clean sessions with any anomaly reported;
//   - ECE of `confidence`: each reported anomaly is correct when it overlaps a true range of its
//     category; 10 equal-width bins.
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
  meanIou: number;
}

export interface Metrics {
  sessions: number;
  perCategory: Record<AnomalyCategory, CategoryMetrics>;
  macroF1: number;
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
  private clean = 0;
  private cleanFp = 0;

  add(truth: TruthRanges, clean: boolean, reported: Anomaly[]): void {
    this.sessions++;
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
      perCategory[c] = { tp, fp, fn, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, meanIou: mean(ious) };
    }
    const { ece, bins } = expectedCalibrationError(this.conf, this.correct);
    return {
      sessions: this.sessions,
      perCategory,
      macroF1: mean(ANOMALY_CATEGORIES.map((c) => perCategory[c].f1)),
      cleanSessions: this.clean,
      cleanFalsePositiveRate: this.clean ? this.cleanFp / this.clean : 0,
      meanIou: mean(allIou),
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
