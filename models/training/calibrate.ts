// Fits the post-processing of CSAR-C-2 on a VALIDATION corpus (a seed that neither training nor
// the held-out evaluation uses) and writes models/artifacts/postprocess.json:
//   - per category, the run rule (bucket threshold, peak threshold, gap merge) that maximises
//     session-level F1 + 0.3 × mean IoU of the ranges;
//   - per category, an isotonic map from a run's peak probability to the share of such runs that
//     are real (calibrated `confidence`), and the same for the physics detector's confidences;
//   - per category, the source of the verdict: the learned model, physics, their union or their
//     intersection — physics stays beside the learned models only where it helps on validation;
//   - the clean p99 of CSAR-2's reconstruction error (the scale of the severity score);
//   - per category and observable slice (models/serving/slices.ts: SoC or not, power or not, reading
//     interval, register resolution, AC/DC from metadata), the source on that slice: the learned
//     side only where its F1 beats the rules' there by SLICE_MARGIN, else the rules decide; slices
//     with too few validation sessions keep the category's source (`sliceSource`);
//   - SORC: the map from the served reconstruction's raw confidence to the share of its points
//     within 10 points of the truth, and the scale of its uncertainty band, on validation sessions
//     whose SoC is hidden from it (`sorc`).
// It runs the ONNX models through the serving code (OnnxDetector.inferFeatures), so what is fitted
// is what is served.
//
// Usage: tsx models/training/calibrate.ts [--seed csar-val-1] [--count 2000] [--dir models/artifacts]
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhysicsDetector } from '../../domain/analysis/physics-detector';
import { ANOMALY_CATEGORIES, type Anomaly, type AnomalyCategory } from '../../domain/analysis/types';
import { preparedCorpus, type PreparedSession } from './corpus';
import { socTarget } from './export-dataset';
import { extractFeatures, FEATURE_VERSION } from '../serving/features';
import { iou, mean, overlapsAny, quantile, type Range } from './metrics';
import { ARTIFACTS_DIR, fuse, OnnxDetector, type LearnedOutputs } from '../serving/onnx-detector';
import { defaultPostprocess, isotonic, runsOf, SOURCE_RULES_FIRST, toAnomaly, type ConfidenceMap, type PostprocessConfig, type Run, type RunRule, type Source } from '../serving/postprocess';
import { sliceKeys, windowSlices } from '../serving/slices';
import { reconstruct, type SorcCalibration } from '../serving/sorc';

const IOU_WEIGHT = 0.3;
const THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
const PEAKS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const GAPS = [0, 1, 2, 4, 8, 16];
/** On a slice, the learned side decides (alone or beside the rules) only when its F1 beats the rules' by this. */
const SLICE_MARGIN = 0.01;
/** A slice decides for a category only with at least this many validation sessions, and this many with the category. */
const SLICE_MIN_SESSIONS = 60;
const SLICE_MIN_POSITIVES = 20;
/** Coverage of SORC's uncertainty band. */
const SORC_BAND_COVERAGE = 0.8;

interface Item {
  s: PreparedSession;
  out: LearnedOutputs;
  physics: Anomaly[];
  /** Observable slices (`dimension=value`), as the served detector sees them. */
  slices: string[];
}

/** SORC on one validation session whose SoC is hidden: raw confidence, and per compared point |error| / spread. */
interface SorcItem {
  raw: number;
  within: number;
  errors: number[];
  spreads: number[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** Session-level F1 and mean IoU of one category's reported ranges over the corpus. */
function score(items: Item[], c: AnomalyCategory, ranges: (it: Item) => Range[]): { f1: number; iou: number; obj: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const ious: number[] = [];
  for (const it of items) {
    const pred = ranges(it);
    const tr = it.s.truth[c] ?? [];
    if (pred.length && tr.length) {
      tp++;
      ious.push(iou(pred, tr));
    } else if (pred.length) fp++;
    else if (tr.length) fn++;
  }
  const f1 = tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
  const m = mean(ious);
  return { f1, iou: m, obj: f1 + IOU_WEIGHT * m };
}

/** The run rule of the grid whose ranges (`rangesOf(item, rule)`) score best for category c. */
function fitRule(items: Item[], c: AnomalyCategory, rangesOf: (it: Item, rule: RunRule) => Range[]): { rule: RunRule; f1: number; iou: number; obj: number } {
  let best = { rule: { threshold: 0.5, peak: 0.5, gap: 2 }, f1: 0, iou: 0, obj: -1 };
  const gaps = c === 'ZERO_SESSION' ? [0] : GAPS;
  for (const threshold of THRESHOLDS) {
    for (const peak of PEAKS) {
      if (peak < threshold) continue;
      for (const gap of gaps) {
        const rule = { threshold, peak, gap };
        const r = score(items, c, (it) => rangesOf(it, rule));
        if (r.obj > best.obj + 1e-9) best = { rule, ...r };
      }
    }
  }
  return best;
}

/** Learned runs of one category (under `rule`) that overlap a physics finding of that category. */
function confirmedRuns(it: Item, ci: number, c: AnomalyCategory, rule: RunRule): Run[] {
  const phys = it.physics.filter((a) => a.category === c).map((a) => ({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit }));
  if (phys.length === 0) return [];
  return runsOf(it.out.probs, it.out.T, ci, rule, c).filter((r) => overlapsAny(r, phys));
}

async function main(): Promise<void> {
  const seed = arg('seed', 'csar-val-1');
  const count = Number(arg('count', '2000'));
  const dir = arg('dir', ARTIFACTS_DIR);
  const t = performance.now();
  const det = await OnnxDetector.load({ dir, fusion: false, refitting: true });
  const physics = new PhysicsDetector();
  const items: Item[] = [];
  let batch: PreparedSession[] = [];
  const flush = async () => {
    const feats = batch.map((s) => extractFeatures(s.window, s.metadata));
    const outs = await det.inferFeatures(feats);
    batch.forEach((s, k) => items.push({ s, out: outs[k], physics: physics.detect({ window: s.window, metadata: s.metadata }), slices: sliceKeys(windowSlices(s.window, s.metadata)) }));
    for (const s of batch) {
      const r = await sorcItem(det, s);
      if (r) sorcItems.push(r);
    }
    batch = [];
  };
  const sorcItems: SorcItem[] = [];
  let skipped = 0;
  for (const s of preparedCorpus(seed, count)) {
    if (!s.eligible || !s.aligned) {
      skipped++;
      continue;
    }
    batch.push(s);
    if (batch.length >= 16) await flush();
  }
  if (batch.length) await flush();
  console.log(`validation corpus ${seed}: ${items.length} sessions (${skipped} not analysable) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const post: PostprocessConfig = defaultPostprocess();
  const errs: number[] = [];
  for (const it of items) if (it.s.clean && it.out.error) for (const e of it.out.error) errs.push(e);
  errs.sort((a, b) => a - b);
  post.errorP99 = errs.length ? round6(quantile(errs, 0.99)) : 0;

  const report: string[] = [];
  const physicsConfidence = {} as Record<AnomalyCategory, ConfidenceMap>;
  ANOMALY_CATEGORIES.forEach((c, ci) => {
    const fit = fitRule(items, c, (it, rule) => runsOf(it.out.probs, it.out.T, ci, rule, c));
    post.rules[c] = fit.rule;
    // Confidence: of the runs this rule reports with a given peak probability, how many are real.
    const peaks: number[] = [];
    const ok: number[] = [];
    for (const it of items) {
      for (const r of runsOf(it.out.probs, it.out.T, ci, fit.rule, c)) {
        peaks.push(r.peak);
        ok.push(overlapsAny(r, it.s.truth[c]) ? 1 : 0);
      }
    }
    post.confidence[c] = isotonic(peaks, ok);
    const pc: number[] = [];
    const pok: number[] = [];
    for (const it of items) {
      for (const a of it.physics.filter((x) => x.category === c)) {
        pc.push(a.confidence);
        pok.push(overlapsAny({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit }, it.s.truth[c]) ? 1 : 0);
      }
    }
    physicsConfidence[c] = isotonic(pc, pok);
    report.push(`${c}: rule ${JSON.stringify(fit.rule)} F1 ${fit.f1.toFixed(4)} IoU ${fit.iou.toFixed(4)}`);
  });
  post.physicsConfidence = physicsConfidence;

  // Where physics helps: per category, the source with the best F1 + 0.3·IoU on validation.
  const learnedOf = (it: Item): Anomaly[] => {
    const out: Anomaly[] = [];
    ANOMALY_CATEGORIES.forEach((c, ci) => {
      for (const r of runsOf(it.out.probs, it.out.T, ci, post.rules[c], c)) out.push(toAnomaly(r, it.s.window.t0, post, it.out.error));
    });
    return out;
  };
  const learnedCache = new Map<Item, Anomaly[]>(items.map((it) => [it, learnedOf(it)]));
  const sources: Source[] = ['learned', 'learned&physics', 'learned+physics', 'physics'];
  post.confirmed = {};
  const confirmedRules = new Map<AnomalyCategory, RunRule>();
  for (const [ci, c] of ANOMALY_CATEGORIES.entries()) {
    // The learned side where physics must confirm gets its own rule (see PostprocessConfig.confirmed).
    const confirmed = fitRule(items, c, (it, rule) => confirmedRuns(it, ci, c, rule));
    confirmedRules.set(c, confirmed.rule);
    const res = sources.map((src) => {
      if (src === 'learned&physics') return { src, ...confirmed };
      const only = { ...post.source, [c]: src } as Record<AnomalyCategory, Source>;
      return {
        src,
        ...score(items, c, (it) =>
          fuse(learnedCache.get(it)!, it.physics, only)
            .filter((a) => a.category === c)
            .map((a) => ({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit })),
        ),
      };
    });
    // Among the sources within 0.002 of the best, the one that leans most on the learned model
    // (learned, then physics confirming learned ranges, then the union, then physics alone).
    const best = Math.max(...res.map((r) => r.obj));
    post.source[c] = res.find((r) => r.obj >= best - 0.002)!.src;
    if (post.source[c] === 'learned&physics') {
      // Confidence of the learned runs physics confirmed, by their peak, as for the rest.
      const peaks: number[] = [];
      const ok: number[] = [];
      for (const it of items) {
        for (const r of confirmedRuns(it, ci, c, confirmed.rule)) {
          peaks.push(r.peak);
          ok.push(overlapsAny(r, it.s.truth[c]) ? 1 : 0);
        }
      }
      post.confirmed[c] = { rule: confirmed.rule, confidence: isotonic(peaks, ok) };
      report.push(`${c}: learned rule where physics confirms ${JSON.stringify(confirmed.rule)}`);
    }
    report.push(`${c}: ${res.map((r) => `${r.src} F1 ${r.f1.toFixed(4)} IoU ${r.iou.toFixed(4)}`).join(' | ')} → ${post.source[c]}`);
  }

  // Per observable slice: the rules decide where the learned side does not beat them there.
  post.sliceSource = {};
  const bySlice = new Map<string, Item[]>();
  for (const it of items) for (const k of it.slices) (bySlice.get(k) ?? bySlice.set(k, []).get(k)!).push(it);
  for (const [ci, c] of ANOMALY_CATEGORIES.entries()) {
    const confirmed = confirmedRules.get(c)!;
    let usesConfirmed = false;
    const per: Record<string, Source> = {};
    for (const [key, sub] of [...bySlice.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const positives = sub.filter((it) => (it.s.truth[c] ?? []).length > 0).length;
      if (sub.length < SLICE_MIN_SESSIONS || positives < SLICE_MIN_POSITIVES) continue;
      const res = SOURCE_RULES_FIRST.map((src) => {
        if (src === 'learned&physics') return { src, ...score(sub, c, (it) => confirmedRuns(it, ci, c, confirmed)) };
        const only = { ...post.source, [c]: src } as Record<AnomalyCategory, Source>;
        return {
          src,
          ...score(sub, c, (it) =>
            fuse(learnedCache.get(it)!, it.physics, only)
              .filter((a) => a.category === c)
              .map((a) => ({ start: a.bucketRange.startUnit, end: a.bucketRange.endUnit })),
          ),
        };
      });
      const rules = res[0];
      // Rules first; a source leaning on the learned model only where its F1 beats the rules' by the margin.
      const ok = res.filter((r) => r.src === 'physics' || r.f1 >= rules.f1 + SLICE_MARGIN);
      const best = Math.max(...ok.map((r) => r.obj));
      const pick = ok.find((r) => r.obj >= best - 0.002)!.src;
      per[key] = pick;
      if (pick === 'learned&physics') usesConfirmed = true;
      if (pick !== post.source[c]) report.push(`${c} on ${key} (${sub.length} sessions, ${positives} with it): ${res.map((r) => `${r.src} F1 ${r.f1.toFixed(4)}`).join(' | ')} → ${pick}`);
    }
    if (Object.keys(per).length) post.sliceSource[c] = per;
    if (usesConfirmed && !post.confirmed[c]) {
      const peaks: number[] = [];
      const ok: number[] = [];
      for (const it of items) {
        for (const r of confirmedRuns(it, ci, c, confirmed)) {
          peaks.push(r.peak);
          ok.push(overlapsAny(r, it.s.truth[c]) ? 1 : 0);
        }
      }
      post.confirmed[c] = { rule: confirmed, confidence: isotonic(peaks, ok) };
    }
  }

  // SORC: calibrated confidence and uncertainty band of the served reconstruction.
  post.sorc = fitSorcCalibration(sorcItems);
  if (post.sorc) {
    const f = post.sorc.fittedOn!;
    report.push(`SORC on ${f.sessions} validation sessions with SoC hidden (${f.points} points): MAE ${f.mae.toFixed(2)}, within 10 points ${f.withinTen.toFixed(3)}; band ×${post.sorc.band!.scale} of the spread holds ${SORC_BAND_COVERAGE * 100} %`);
  }

  post.fittedOn = { seed, count };
  post.featureVersion = FEATURE_VERSION;
  post.createdAt = new Date().toISOString();
  const body = { ...post, version: '', createdAt: '' };
  post.version = `pp-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 10)}`;
  writeFileSync(join(dir, 'postprocess.json'), JSON.stringify(post, null, 2) + '\n');
  console.log(report.join('\n'));
  console.log(`errorP99 ${post.errorP99}; wrote ${join(dir, 'postprocess.json')} (${post.version}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/**
 * SORC on a validation session that reported SoC (not itself corrupted): the SoC hidden from it,
 * the served reconstruction compared with the reported SoC at the overlay's points.
 */
async function sorcItem(det: OnnxDetector, s: PreparedSession): Promise<SorcItem | null> {
  const w = s.window;
  if (w.soc.t.length < 2 || s.sim.truth.categories.includes('UNEXPECTED_CHARGE_LEVEL_CHANGES')) return null;
  const hidden = { ...w, soc: { t: [], v: [] } };
  if (hidden.energy.t.length < 2 && hidden.power.t.length < 2) return null;
  const f = extractFeatures(hidden, s.metadata);
  if (f.bucketCount === 0) return null;
  const { soc, sigma } = await det.sorcRaw(f);
  const r = reconstruct(hidden, s.metadata, f.bucketCount, soc, sigma);
  const target = socTarget(w);
  const errors: number[] = [];
  const spreads: number[] = [];
  for (const b of r.buckets) {
    if (Number.isNaN(target[b])) continue;
    errors.push(Math.abs(r.fit.soc[b] - target[b]));
    spreads.push(r.fit.spread[b]);
  }
  if (errors.length === 0) return null;
  return { raw: r.rawConfidence, within: mean(errors.map((e) => (e <= 10 ? 1 : 0))), errors, spreads };
}

/** Isotonic map raw confidence → share of points within 10; the band's scale (quantile of |error| / spread). */
function fitSorcCalibration(items: SorcItem[]): SorcCalibration | undefined {
  if (items.length < 20) return undefined;
  const ratios: number[] = [];
  let n = 0;
  let abs = 0;
  let hit = 0;
  for (const it of items) {
    it.errors.forEach((e, i) => {
      ratios.push(e / Math.max(1e-6, it.spreads[i]));
      abs += e;
      hit += e <= 10 ? 1 : 0;
      n++;
    });
  }
  ratios.sort((a, b) => a - b);
  return {
    confidence: isotonic(
      items.map((it) => it.raw),
      items.map((it) => it.within),
    ),
    band: { coverage: SORC_BAND_COVERAGE, scale: Math.round(quantile(ratios, SORC_BAND_COVERAGE) * 1e4) / 1e4 },
    fittedOn: { sessions: items.length, points: n, withinTen: Math.round((hit / n) * 1e4) / 1e4, mae: Math.round((abs / n) * 1e3) / 1e3 },
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
