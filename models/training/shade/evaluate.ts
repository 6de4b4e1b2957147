// SHADE's evaluation on simulated stations: per type precision and recall (a finding matches a
// label of its type on the same day whose minute range it overlaps, on the same connector when both
// name one), the minute-range overlap (IoU) of matched pairs, and the share of clean days reported
// anomalous. Recall is given over every injected fault and over the "observable" ones, whose evidence
// meets the type's defining condition (a stuck connector nobody plugged into cannot be seen).
import { STATION_ANOMALY_TYPES, type ShadeDetector, type StationAnomalyType, type StationDayResult } from '../../../domain/shade/types';
import { Rng } from '../simulator/rng';
import { drawStationSpec, simulateStation, type SimStationDay, type StationSpec } from './simulate';
import { auroc } from '../metrics';

export interface EvalSetOptions {
  seed: string;
  stations: number;
  /** Days judged per station (after its history). */
  days: number;
  heldOut: boolean;
  /** History days before the judged days (56 = eight weeks). */
  historyDays?: number;
  faultRate?: number;
  /** Share of stations with only 3–20 days of history (new stations). */
  newStationShare?: number;
}

/** Station-days of `stations` simulated stations. */
export function simulateSet(o: EvalSetOptions): SimStationDay[] {
  const out: SimStationDay[] = [];
  for (let i = 0; i < o.stations; i++) {
    const id = `${o.seed}-st-${i}`;
    const rng = new Rng(`${o.seed}/new/${i}`);
    const historyDays = rng.chance(o.newStationShare ?? 0) ? rng.int(3, 20) : o.historyDays;
    const spec: StationSpec = drawStationSpec(o.seed, id, o.heldOut, { historyDays });
    out.push(...simulateStation(spec, o.days, { faultRate: o.faultRate ?? 0.5 }));
  }
  return out;
}

export interface TypeMetrics {
  type: StationAnomalyType;
  labels: number;
  observable: number;
  findings: number;
  truePositives: number;
  precision: number;
  /** Over every injected fault. */
  recall: number;
  /** Over observable faults. */
  recallObservable: number;
  /** Mean IoU of matched (label, best finding) pairs. */
  iou: number;
  /** Findings of this type on clean days. */
  cleanDayFindings: number;
}

export interface ShadeMetrics {
  days: number;
  cleanDays: number;
  /** Clean days with isAnomaly. */
  falsePositiveRate: number;
  types: TypeMetrics[];
  /** Of faulty days, the share reported anomalous. */
  dayRecall: number;
  /** Mean dayScore on clean and faulty days. */
  meanDayScoreClean: number;
  meanDayScoreFaulty: number;
  /** AUROC of dayScore, faulty days against clean days. */
  dayScoreAuroc: number;
}

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0) + 1);
const iouOf = (a0: number, a1: number, b0: number, b1: number) => {
  const i = overlap(a0, a1, b0, b1);
  return i / (a1 - a0 + 1 + (b1 - b0 + 1) - i);
};

export function scoreResults(days: SimStationDay[], results: StationDayResult[]): ShadeMetrics {
  const per = new Map<StationAnomalyType, TypeMetrics & { iouSum: number; observedHits: number }>();
  for (const t of STATION_ANOMALY_TYPES) {
    per.set(t, { type: t, labels: 0, observable: 0, findings: 0, truePositives: 0, precision: 0, recall: 0, recallObservable: 0, iou: 0, cleanDayFindings: 0, iouSum: 0, observedHits: 0 });
  }
  let clean = 0;
  let cleanFlagged = 0;
  let faulty = 0;
  let faultyFlagged = 0;
  let scoreClean = 0;
  let scoreFaulty = 0;
  const dayScores: number[] = [];
  const faultyDay: boolean[] = [];
  for (let i = 0; i < days.length; i++) {
    const { labels } = days[i];
    const r = results[i];
    const findings = r.detectionDetails.findings ?? [];
    dayScores.push(r.dayScore);
    faultyDay.push(labels.length > 0);
    const matches = (l: (typeof labels)[number], f: (typeof findings)[number]) =>
      f.anomaly_type === l.type &&
      (l.connectorId === null || f.connector_id === null || l.connectorId === f.connector_id) &&
      overlap(l.startMinute, l.endMinute, f.start_minute, f.end_minute) > 0;
    if (labels.length === 0) {
      clean++;
      scoreClean += r.dayScore;
      if (r.isAnomaly) cleanFlagged++;
      for (const f of findings) per.get(f.anomaly_type)!.cleanDayFindings++;
    } else {
      faulty++;
      scoreFaulty += r.dayScore;
      if (r.isAnomaly) faultyFlagged++;
    }
    for (const f of findings) {
      const m = per.get(f.anomaly_type)!;
      m.findings++;
      if (labels.some((l) => matches(l, f))) m.truePositives++;
    }
    for (const l of labels) {
      const m = per.get(l.type)!;
      m.labels++;
      if (l.observable) m.observable++;
      const hits = findings.filter((f) => matches(l, f));
      if (hits.length) {
        m.recall++;
        if (l.observable) m.observedHits++;
        m.iouSum += Math.max(...hits.map((f) => iouOf(l.startMinute, l.endMinute, f.start_minute, f.end_minute)));
      }
    }
  }
  const types = [...per.values()].map((m) => ({
    type: m.type,
    labels: m.labels,
    observable: m.observable,
    findings: m.findings,
    truePositives: m.truePositives,
    precision: m.findings ? m.truePositives / m.findings : 0,
    recall: m.labels ? m.recall / m.labels : 0,
    recallObservable: m.observable ? m.observedHits / m.observable : 0,
    iou: m.recall ? m.iouSum / m.recall : 0,
    cleanDayFindings: m.cleanDayFindings,
  }));
  return {
    days: days.length,
    cleanDays: clean,
    falsePositiveRate: clean ? cleanFlagged / clean : 0,
    types,
    dayRecall: faulty ? faultyFlagged / faulty : 0,
    meanDayScoreClean: clean ? scoreClean / clean : 0,
    meanDayScoreFaulty: faulty ? scoreFaulty / faulty : 0,
    dayScoreAuroc: auroc(dayScores, faultyDay),
  };
}

export async function evaluateDetector(detector: ShadeDetector, days: SimStationDay[]): Promise<ShadeMetrics> {
  const results: StationDayResult[] = [];
  for (let i = 0; i < days.length; i += 500) results.push(...(await detector.detect(days.slice(i, i + 500).map((d) => d.input))));
  return scoreResults(days, results);
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function metricsTable(m: ShadeMetrics): string {
  const rows = [
    '| type | faults (observable) | findings | precision | recall (all) | recall (observable) | IoU (matched) | findings on clean days |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of m.types) {
    rows.push(`| \`${t.type}\` | ${t.labels} (${t.observable}) | ${t.findings} | ${pct(t.precision)} | ${pct(t.recall)} | ${pct(t.recallObservable)} | ${t.iou.toFixed(2)} | ${t.cleanDayFindings} |`);
  }
  rows.push('');
  rows.push(
    `${m.days} station-days, ${m.cleanDays} clean: false-positive rate on clean days ${pct(m.falsePositiveRate)}; faulty days reported anomalous ${pct(m.dayRecall)}; mean dayScore clean ${m.meanDayScoreClean.toFixed(3)}, faulty ${m.meanDayScoreFaulty.toFixed(3)}; dayScore AUROC (faulty vs clean days) ${m.dayScoreAuroc.toFixed(3)}.`,
  );
  return rows.join('\n');
}
