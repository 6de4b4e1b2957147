// Training tensors from the charging simulator, through the serving pipeline itself:
// simulated OCPP meter values → normalise → analysisWindow → extractFeatures (models/features.ts).
// Python never computes a feature; it reads what this wrote, so training and serving cannot drift.
//
// Output directory (gitignored, models/datasets/<name>/): the tensor files and manifest of
// domain/models/tensor-set.ts; sessions whose SoC is itself corrupted (UNEXPECTED_CHARGE_LEVEL_CHANGES)
// have no SoC target.
//
// Training and validation see only sessions touching no held-out slice of the simulator
// (`--holdout exclude`, the default; see corpus.ts): the evaluation scores the held-out slices.
//
// Usage: tsx models/training/export-dataset.ts --seed csar-train-1 --count 6000 --out models/datasets/train [--holdout exclude]
import { normalise } from '../../domain/analysis/normalise';
import { ANOMALY_CATEGORIES, type AnalysisWindow, type StoredMeterValue } from '../../domain/analysis/types';
import { analysisWindow, BUCKET_MS } from '../../domain/analysis/window';
import { TensorSet, type Manifest } from '../../domain/models/tensor-set';
import { iterateCorpus, truthBuckets, truthWindow, type SimSession } from './simulator';
import { extractFeatures, FEATURE_NAMES, FEATURE_VERSION, SORC_INPUT_CHANNELS } from '../serving/features';
import type { Holdout } from './corpus';

export interface ExportOptions {
  seed: string;
  count: number;
  out: string;
  anomalyRate?: number;
  /** Default 'exclude' (training and validation never see a held-out slice). */
  holdout?: Holdout;
}

type Corpus = { seed: string; count: number; anomalyRate: number; holdout: Holdout; generator: string };

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

export function exportDataset(o: ExportOptions): Manifest<Corpus> {
  const anomalyRate = o.anomalyRate ?? 0.5;
  const holdout = o.holdout ?? 'exclude';
  const out = new TensorSet(o.out);
  let skipped = 0;
  for (const s of iterateCorpus({ seed: o.seed, count: o.count, anomalyRate, holdout })) {
    const w = analysisWindow(normalise(storedValues(s)));
    const tw = truthWindow(s);
    // The simulator's truth window must be the analysis window, or the labels would be shifted.
    if (w.bucketCount === 0 || tw.t0 !== w.t0 || tw.bucketCount !== w.bucketCount) {
      skipped++;
      continue;
    }
    const corrupted = s.truth.categories.includes('UNEXPECTED_CHARGE_LEVEL_CHANGES');
    const soc = corrupted ? undefined : socTarget(w);
    const hasTarget = soc !== undefined && soc.some((x) => !Number.isNaN(x));
    out.add(
      { id: s.id, clean: s.truth.clean, categories: s.truth.categories, lookalike: s.truth.lookalike ?? null, measurands: s.profile.measurands.join('+') },
      {
        features: extractFeatures(w, s.metadata),
        labels: bucketLabels(s, w),
        soc,
        sorc: hasTarget ? extractFeatures({ ...w, soc: { t: [], v: [] } }, s.metadata).data : undefined,
      },
    );
  }
  return out.close<Corpus>({
    featureVersion: FEATURE_VERSION,
    featureNames: FEATURE_NAMES,
    sorcInputChannels: SORC_INPUT_CHANNELS,
    corpus: { seed: o.seed, count: o.count, anomalyRate, holdout, generator: 'domain/simulator iterateCorpus' },
    skipped,
  });
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
