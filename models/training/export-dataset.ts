// Training tensors from the charging simulator, through the serving pipeline itself:
// simulated OCPP meter values → normalise → analysisWindow → extractFeatures (models/features.ts).
// Python never computes a feature; it reads what this wrote, so training and serving cannot drift.
//
// Output directory (gitignored, models/datasets/<name>/):
//   features.f32   per session, channel-major [F × T] float32 little-endian, concatenated
//   labels.u8      per session, [C × T] 0/1 per category (ANOMALY_CATEGORIES order) from truthBuckets
//   soc.f32        per session, [T] SoC target (%) interpolated at bucket centres; NaN where unknown
//                  or where the session's SoC is itself corrupted (UNEXPECTED_CHARGE_LEVEL_CHANGES)
//   sorc.f32       per session with a SoC target, [F × T] features of the same window with its SoC
//                  readings removed: exactly what serving computes for a session without SoC
//   manifest.json  feature version and names, categories, corpus seed/size, per-session offsets
//
// Training and validation see only sessions touching no held-out slice of the simulator
// (`--holdout exclude`, the default; see corpus.ts): the evaluation scores the held-out slices.
//
// Usage: tsx models/training/export-dataset.ts --seed csar-train-1 --count 6000 --out models/datasets/train [--holdout exclude]
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { normalise } from '../../domain/analysis/normalise';
import { ANOMALY_CATEGORIES, type AnalysisWindow, type StoredMeterValue } from '../../domain/analysis/types';
import { analysisWindow, BUCKET_MS } from '../../domain/analysis/window';
import { iterateCorpus, truthBuckets, truthWindow, type SimSession } from './simulator';
import { extractFeatures, FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION, SORC_INPUT_CHANNELS } from '../serving/features';
import type { Holdout } from './corpus';

export interface ExportOptions {
  seed: string;
  count: number;
  out: string;
  anomalyRate?: number;
  /** Default 'exclude' (training and validation never see a held-out slice). */
  holdout?: Holdout;
}

export interface SessionEntry {
  id: string;
  /** Offset of the session's first bucket in the concatenated per-bucket arrays. */
  offset: number;
  T: number;
  clean: boolean;
  categories: string[];
  lookalike: string | null;
  measurands: string;
  /** Offset into sorc.f32 (in buckets), or -1 when the session has no SoC target. */
  sorcOffset: number;
}

export interface Manifest {
  featureVersion: string;
  featureNames: readonly string[];
  featureCount: number;
  sorcInputChannels: number[];
  categories: string[];
  corpus: { seed: string; count: number; anomalyRate: number; holdout: Holdout; generator: string };
  totalBuckets: number;
  totalSorcBuckets: number;
  skipped: number;
  createdAt: string;
  sessions: SessionEntry[];
}

/** Stored meter values as the API would hand them to the analysis (arrival order = seq). */
export function storedValues(s: SimSession): StoredMeterValue[] {
  return s.meterValues.map((m, i) => ({ ...m, seq: i }));
}

/** Per-bucket 0/1 labels [C × T] from the simulator's ground truth. */
export function bucketLabels(s: SimSession, w: AnalysisWindow): Uint8Array {
  const T = w.bucketCount;
  const out = new Uint8Array(ANOMALY_CATEGORIES.length * T);
  for (const r of truthBuckets(s, truthWindow(s))) {
    const c = ANOMALY_CATEGORIES.indexOf(r.category);
    for (let b = r.startUnit; b <= Math.min(T - 1, r.endUnit); b++) out[c * T + b] = 1;
  }
  return out;
}

/** SoC (%) at bucket centres, linear between readings ≤ 15 min apart; NaN elsewhere. */
export function socTarget(w: AnalysisWindow): Float32Array {
  const T = w.bucketCount;
  const out = new Float32Array(T).fill(NaN);
  const { t, v } = w.soc;
  if (t.length < 2) return out;
  let i = 0;
  for (let b = 0; b < T; b++) {
    const tc = w.t0 + (b + 0.5) * BUCKET_MS;
    while (i + 1 < t.length && t[i + 1] < tc) i++;
    if (tc < t[0] || tc > t[t.length - 1] || i + 1 >= t.length) continue;
    const dt = t[i + 1] - t[i];
    if (dt > 15 * 60_000 || dt <= 0) continue;
    out[b] = v[i] + ((v[i + 1] - v[i]) * (tc - t[i])) / dt;
  }
  return out;
}

export function exportDataset(o: ExportOptions): Manifest {
  mkdirSync(o.out, { recursive: true });
  const fFeat = openSync(join(o.out, 'features.f32'), 'w');
  const fLab = openSync(join(o.out, 'labels.u8'), 'w');
  const fSoc = openSync(join(o.out, 'soc.f32'), 'w');
  const fSorc = openSync(join(o.out, 'sorc.f32'), 'w');
  const anomalyRate = o.anomalyRate ?? 0.5;
  const holdout = o.holdout ?? 'exclude';
  const sessions: SessionEntry[] = [];
  let offset = 0;
  let sorcOffset = 0;
  let skipped = 0;
  for (const s of iterateCorpus({ seed: o.seed, count: o.count, anomalyRate, holdout })) {
    const w = analysisWindow(normalise(storedValues(s)));
    const tw = truthWindow(s);
    // The simulator's truth window must be the analysis window, or the labels would be shifted.
    if (w.bucketCount === 0 || tw.t0 !== w.t0 || tw.bucketCount !== w.bucketCount) {
      skipped++;
      continue;
    }
    const f = extractFeatures(w, s.metadata);
    writeSync(fFeat, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
    const lab = bucketLabels(s, w);
    writeSync(fLab, Buffer.from(lab.buffer, lab.byteOffset, lab.byteLength));
    const corrupted = s.truth.categories.includes('UNEXPECTED_CHARGE_LEVEL_CHANGES');
    const soc = corrupted ? new Float32Array(w.bucketCount).fill(NaN) : socTarget(w);
    writeSync(fSoc, Buffer.from(soc.buffer, soc.byteOffset, soc.byteLength));
    let so = -1;
    if (!corrupted && soc.some((x) => !Number.isNaN(x))) {
      const hidden = extractFeatures({ ...w, soc: { t: [], v: [] } }, s.metadata);
      writeSync(fSorc, Buffer.from(hidden.data.buffer, hidden.data.byteOffset, hidden.data.byteLength));
      so = sorcOffset;
      sorcOffset += w.bucketCount;
    }
    sessions.push({
      id: s.id,
      offset,
      T: w.bucketCount,
      clean: s.truth.clean,
      categories: s.truth.categories,
      lookalike: s.truth.lookalike ?? null,
      measurands: s.profile.measurands.join('+'),
      sorcOffset: so,
    });
    offset += w.bucketCount;
  }
  for (const fd of [fFeat, fLab, fSoc, fSorc]) closeSync(fd);
  const manifest: Manifest = {
    featureVersion: FEATURE_VERSION,
    featureNames: FEATURE_NAMES,
    featureCount: FEATURE_COUNT,
    sorcInputChannels: SORC_INPUT_CHANNELS,
    categories: ANOMALY_CATEGORIES,
    corpus: { seed: o.seed, count: o.count, anomalyRate, holdout, generator: 'domain/simulator iterateCorpus' },
    totalBuckets: offset,
    totalSorcBuckets: sorcOffset,
    skipped,
    createdAt: new Date().toISOString(),
    sessions,
  };
  writeFileSync(join(o.out, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}

if (require.main === module) {
  const t = performance.now();
  const m = exportDataset({ seed: arg('seed'), count: Number(arg('count')), out: arg('out'), anomalyRate: Number(arg('anomaly-rate', '0.5')), holdout: arg('holdout', 'exclude') as Holdout });
  const secs = ((performance.now() - t) / 1000).toFixed(1);
  console.log(`exported ${m.sessions.length} sessions (${m.skipped} skipped), ${m.totalBuckets} buckets, ${m.totalSorcBuckets} SORC buckets to ${arg('out')} in ${secs} s`);
}
