// The fine-tuning data export: a tenant's analysed sessions → training tensors (written by
// domain/models/tensor-set.ts, the format models/training/train/data.py reads), through the served
// feature extraction — which the worker injects (`FeatureExtractor`), since domain/ never imports
// models/. Python never computes a feature.
//
// Labels per bucket and category: the stored verdict's ranges (session_anomalies), except the
// categories the anomaly workspace marked FALSE_POSITIVE on that session (anomaly_issues), which
// are negatives; confirmed ones (RESOLVED by a member) are positives and are counted. A session
// left without any positive is clean: the autoencoder learns the tenant's normal from those (its
// reconstruction loss is taken on anomaly-free buckets).
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { normalise } from '../analysis/normalise';
import { ANOMALY_CATEGORIES, type AnalysisWindow } from '../analysis/types';
import { analysisWindow } from '../analysis/window';
import { loadReadingsOf } from '../sessions/analysis';
import { sql } from '../../db/sql';
import type { ExportedData, FineTuneInput } from '../../workflows/fine-tune/contract';
import { sourceSql, tunableModel } from './fine-tune';
import { TensorSet } from './tensor-set';

/** The served feature extraction (models/serving/features.ts), handed in by the worker. */
export interface FeatureExtractor {
  featureVersion: string;
  featureNames: readonly string[];
  extract(window: AnalysisWindow, metadata: Record<string, unknown> | null): { data: Float32Array; bucketCount: number };
}

/** What the worker gives the fine-tuning activities: features and where files go. */
export interface FineTuneEnvironment {
  features: FeatureExtractor;
  /** Tenant models' ONNX files: `<modelsDir>/<tenant id>/<model id>/`. */
  modelsDir: string;
  /** Jobs' tensors and checkpoints (`<fineTuneDir>/<tenant id>/<job id>/`) and the cached base evaluation set. */
  fineTuneDir: string;
  /** The committed base artifacts (models/artifacts). */
  baseArtifactsDir: string;
}

/** The base evaluation set: the validation corpus the base models were calibrated on (models/README.md). */
export const BASE_EVAL_SEED = 'csar-val-1';

/** Sessions loaded per query while exporting. */
const PAGE = 100;

export class InvalidTrainingData extends Error {
  override name = 'InvalidTrainingData';
}

/**
 * The held-out split: sessions whose id hashes below `fraction` (stable: a session stays on its side
 * across retries), at least one on each side.
 */
function heldOutSet(sessionDbIds: string[], fraction: number): Set<string> {
  const ranked = sessionDbIds.map((id) => ({ id, h: createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32 })).sort((a, b) => a.h - b.h);
  const n = Math.min(ranked.length - 1, Math.max(1, ranked.filter((r) => r.h < fraction).length));
  return new Set(ranked.slice(0, n).map((r) => r.id));
}

/**
 * Writes the job's tensors (train and held-out split) under `<fineTuneDir>/<tenant>/<job>/` and
 * returns where everything is. Idempotent: a retry rewrites the same files.
 */
export async function exportFineTuneData(em: EntityManager, input: FineTuneInput, env: FineTuneEnvironment, beat: () => void = () => {}): Promise<ExportedData> {
  const { tenantId, jobId, dataSource, settings, trainingConfig } = input;
  const start = await tunableModel(em, tenantId, input.baseModelId);
  if (!start) throw new InvalidTrainingData(`the base model ${input.baseModelId} is no longer available to this tenant`);
  const [base] = await sql(em, `select version from ml_models where id = 'model-csar-c2-base'`);
  const baseArtifact = join(env.baseArtifactsDir, 'csar-c-2.onnx');
  const startOnnx = start.isBase ? baseArtifact : start.artifactPath!;

  const workDir = join(env.fineTuneDir, tenantId, jobId);
  const q = sourceSql(tenantId, dataSource);
  const ids = (await sql(em, `select s.id, s.metadata from ${q.from} order by s.id limit ?`, [...q.params, settings.maxSessions])) as { id: string; metadata: Record<string, unknown> | null }[];
  if (ids.length < settings.minSessions) {
    throw new InvalidTrainingData(`too little data: ${ids.length} analysed session(s) match the data source; fine-tuning needs at least ${settings.minSessions}`);
  }
  rmSync(join(workDir, 'train'), { recursive: true, force: true });
  rmSync(join(workDir, 'held-out'), { recursive: true, force: true });
  const train = new TensorSet(join(workDir, 'train'));
  const held = new TensorSet(join(workDir, 'held-out'));
  const heldOutIds = heldOutSet(ids.map((r) => r.id), trainingConfig.heldOutFraction);
  let skipped = 0;
  let clean = 0;
  const labelCounts = { confirmed: 0, falsePositives: 0, fromVerdicts: 0 };
  try {
    for (let p = 0; p < ids.length; p += PAGE) {
      beat();
      const page = ids.slice(p, p + PAGE);
      const pageIds = page.map((r) => r.id);
      const readings = await loadReadingsOf(em, tenantId, pageIds);
      const ranges = await labelRanges(em, tenantId, pageIds);
      for (const r of page) {
        const values = readings.get(r.id);
        if (!values) {
          skipped++;
          continue;
        }
        const w = analysisWindow(normalise(values));
        const f = env.features.extract(w, r.metadata);
        if (f.bucketCount === 0) {
          skipped++;
          continue;
        }
        const T = f.bucketCount;
        const labels = new Uint8Array(ANOMALY_CATEGORIES.length * T);
        const own = ranges.get(r.id);
        const categories = new Set<string>();
        for (const a of own?.positives ?? []) {
          const c = ANOMALY_CATEGORIES.indexOf(a.category as (typeof ANOMALY_CATEGORIES)[number]);
          if (c < 0) continue;
          for (let b = Math.max(0, a.start); b <= Math.min(T - 1, a.end); b++) labels[c * T + b] = 1;
          categories.add(a.category);
        }
        labelCounts.confirmed += own?.confirmed ?? 0;
        labelCounts.falsePositives += own?.falsePositives ?? 0;
        labelCounts.fromVerdicts += categories.size;
        if (categories.size === 0) clean++;
        // No SoC targets: SORC is not fine-tuned.
        (heldOutIds.has(r.id) ? held : train).add({ id: r.id, clean: categories.size === 0, categories: [...categories], lookalike: null, measurands: '' }, { features: f, labels });
      }
    }
  } finally {
    const corpus = (split: string) => ({ seed: `tenant:${tenantId}`, count: ids.length, split, anomalyRate: null, holdout: 'exclude', generator: 'tenant sessions (domain/models/fine-tune-data.ts)' });
    const header = { featureVersion: env.features.featureVersion, featureNames: env.features.featureNames, sorcInputChannels: [] };
    train.close({ ...header, corpus: corpus('train'), skipped });
    held.close({ ...header, corpus: corpus('held-out'), skipped: 0 });
  }
  // Sessions without a usable window (skipped) may still leave a side empty.
  if (held.sessions.length === 0 || train.sessions.length === 0) {
    throw new InvalidTrainingData(`the held-out split left ${train.sessions.length} training and ${held.sessions.length} held-out sessions; change heldOutFraction or add sessions`);
  }
  const modelId = `model-ft-${jobId}`;
  return {
    workDir,
    trainDir: train.dir,
    heldOutDir: held.dir,
    baseEvalDir: join(env.fineTuneDir, 'base-eval', `${env.features.featureVersion}-${BASE_EVAL_SEED}-${settings.baseEvalSessions}`),
    startOnnx,
    referenceOnnx: baseArtifact,
    baseArtifactsDir: env.baseArtifactsDir,
    modelDir: join(env.modelsDir, tenantId, modelId),
    modelId,
    modelVersion: `${(base?.version as string | undefined) ?? readBaseVersion(env.baseArtifactsDir)}-ft.${jobId.slice(0, 8)}`,
    featureVersion: env.features.featureVersion,
    sessions: { total: train.sessions.length + held.sessions.length, train: train.sessions.length, heldOut: held.sessions.length, clean, skipped },
    buckets: { train: train.buckets, heldOut: held.buckets },
    labels: labelCounts,
  };
}

function readBaseVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'csar-c-2.card.json'), 'utf8')) as { version: string }).version;
}

interface SessionLabels {
  positives: { category: string; start: number; end: number }[];
  confirmed: number;
  falsePositives: number;
}

/** Per session: the verdict's ranges without the workspace's false positives, and the review counts. */
async function labelRanges(em: EntityManager, tenantId: string, sessionDbIds: string[]): Promise<Map<string, SessionLabels>> {
  const out = new Map<string, SessionLabels>();
  const of = (id: string) => {
    let l = out.get(id);
    if (!l) out.set(id, (l = { positives: [], confirmed: 0, falsePositives: 0 }));
    return l;
  };
  const ids = `{${sessionDbIds.join(',')}}`;
  const rows = await sql(
    em,
    `select a.session_id, a.category, a.start_unit, a.end_unit from session_anomalies a
      where a.tenant_id = ? and a.session_id = any(?::uuid[])
        and not exists (select 1 from anomaly_issues i where i.tenant_id = a.tenant_id and i.session_id = a.session_id
                          and i.category = a.category and i.status = 'FALSE_POSITIVE')`,
    [tenantId, ids],
  );
  for (const r of rows) of(r.session_id).positives.push({ category: r.category, start: r.start_unit, end: r.end_unit });
  const reviews = await sql(
    em,
    `select session_id, count(*) filter (where status = 'FALSE_POSITIVE')::int as fp,
            count(*) filter (where status = 'RESOLVED' and resolved_by = 'member')::int as confirmed
       from anomaly_issues where tenant_id = ? and session_id = any(?::uuid[]) group by session_id`,
    [tenantId, ids],
  );
  for (const r of reviews) {
    of(r.session_id).falsePositives += r.fp;
    of(r.session_id).confirmed += r.confirmed;
  }
  return out;
}
