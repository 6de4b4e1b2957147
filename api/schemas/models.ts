// Model registry and fine-tuning schemas (the reference's `002` shapes plus documented extensions)
// and their presenters.
import { FINE_TUNE_STATUSES, type FineTuneJob, type MlModel } from '../../entities';
import { iso, isoDateTime, text, timestampOut } from './common';
import { z } from '../zod';

/** The reference's model types, and `sorc`: an extension (SoC reconstruction) the references do not list. */
export const MODEL_TYPES = ['csar_2', 'csar_c_2', 'shade', 'sorc'] as const;

export const ModelOut = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(MODEL_TYPES).openapi({
      description:
        'csar_2 (session autoencoder), csar_c_2 (per-bucket category classifier), shade (station-level; none served yet) — the reference\'s vocabulary — and the extension sorc (SoC reconstruction), which the references do not list',
    }),
    version: z.string(),
    isBase: z.boolean(),
    baseModel: z.string().nullable(),
    metrics: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Held-out evaluation metrics from the model card' }),
    status: z.enum(['active', 'training', 'archived']),
    active: z.boolean().openapi({
      description:
        'Extension: whether this model analyses the caller\'s sessions now — its promoted fine-tuned model, or else the base models (SORC always)',
    }),
    createdAt: timestampOut(),
  })
  .openapi('Model');

export const ModelList = z.object({ models: z.array(ModelOut) }).openapi('ModelList');

export const ModelDetailOut = ModelOut.extend({
  s3Path: z.string().nullable().openapi({ description: 'Where the artifact is stored: repository-relative for base models, a path under the server\'s EVNI_MODELS_DIR for fine-tuned ones' }),
  description: z.string().nullable(),
  featureVersion: z.string(),
  card: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Extension: a fine-tuned model\'s card (training data, configuration, evaluation); null for base models' }),
  fineTuneJobId: z.string().nullable().openapi({ description: 'Extension: the fine-tuning job that made the model' }),
}).openapi('ModelDetail');

export const ModelIdParams = z.object({ model_id: text(100, 1) });

// ── Fine-tuning ────────────────────────────────────────────────────────────────────────────────

export const TrainingConfigIn = z
  .object({
    epochs: z.number().int().min(1).max(50).default(3).openapi({ description: 'Passes over the training split' }),
    learningRate: z.number().min(0.000001).max(0.01).default(0.0003).openapi({ description: 'Peak learning rate (AdamW, short warm-up, cosine decay)' }),
    batchBuckets: z.number().int().min(1440).max(100000).default(24000).openapi({ description: 'Padded 15-s buckets per batch (a 6-hour session is 1,440)' }),
    weightDecay: z.number().min(0).max(0.1).default(0.0001),
    reconstructionWeight: z.number().min(0).max(10).default(1).openapi({ description: "Weight of the autoencoder's reconstruction loss (anomaly-free buckets) beside the category loss" }),
    heldOutFraction: z.number().min(0.05).max(0.5).default(0.2).openapi({ description: "Share of the tenant's sessions held out for evaluation (chosen by a hash of the session)" }),
    seed: z.number().int().min(0).max(2147483647).default(7),
  })
  .openapi('TrainingConfig', { description: 'Training hyper-parameters; each has a default' });

const SessionFilter = z
  .object({
    chargingStationIds: z.array(text(200, 1)).min(1).max(100).nullable().optional().openapi({ description: 'Sessions of these stations only' }),
    dateFrom: isoDateTime.nullable().optional().openapi({ description: 'Sessions starting at or after this time' }),
    dateTo: isoDateTime.nullable().optional().openapi({ description: 'Sessions starting at or before this time' }),
  })
  .refine((f) => !f.dateFrom || !f.dateTo || Date.parse(f.dateFrom) <= Date.parse(f.dateTo), { message: 'dateFrom must not be after dateTo', path: ['dateFrom'] })
  .openapi('FineTuneSessionFilter');

export const FineTuneDataSource = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('sessions'),
      sessionFilter: SessionFilter.nullable().optional().openapi({ description: "Null or absent: all of the tenant's analysed sessions" }),
    }),
    z.object({
      type: z.literal('upload'),
      batchId: z.uuid().openapi({ description: 'Extension: the sessions one of the tenant\'s batches (POST /v1/sessions/batch) wrote' }),
    }),
  ])
  .openapi('FineTuneDataSource', {
    description:
      "`sessions`: the tenant's analysed sessions, filtered by `sessionFilter`; `upload`: the sessions of one of its batches (`batchId`), i.e. data uploaded for the purpose. Too few sessions is a 422 naming the minimum.",
  });

export const FineTuneCreate = z
  .object({
    baseModelId: text(100, 1).openapi({ description: 'The model to start from: model-csar-c2-base, model-csar2-base (one shared graph) or one of your fine-tuned models', example: 'model-csar-c2-base' }),
    name: text(128, 1),
    trainingConfig: TrainingConfigIn.optional().transform((c) => c ?? TrainingConfigIn.parse({})),
    dataSource: FineTuneDataSource,
  })
  .openapi('FineTuneRequest');

const Progress = z
  .object({
    stage: z.string().openapi({ description: 'exporting, training, evaluating, exporting-onnx, registering or completed' }),
    state: z.string().optional().openapi({ description: 'The current activity: scheduled (waiting for a worker) or started' }),
    attempt: z.number().int().optional(),
    epoch: z.number().int().optional().openapi({ description: 'Epochs finished' }),
    epochs: z.number().int().optional(),
    loss: z.number().nullable().optional().openapi({ description: 'Mean training loss of the last finished epoch' }),
    history: z.array(z.object({ epoch: z.number().int(), loss: z.number() })).optional(),
    lastFailure: z.string().optional().openapi({ description: "The current activity's last failed attempt (e.g. a training worker that was killed)" }),
  })
  .openapi('FineTuneProgress');

export const FineTuneCreated = z
  .object({
    jobId: z.string(),
    status: z.enum(FINE_TUNE_STATUSES),
    baseModelId: z.string(),
    createdAt: timestampOut(),
    name: z.string().openapi({ description: 'Extension' }),
    sessionCount: z.number().int().openapi({ description: 'Extension: sessions the data source matched' }),
  })
  .openapi('FineTuneCreated');

export const FineTuneJobOut = z
  .object({
    jobId: z.string(),
    status: z.enum(FINE_TUNE_STATUSES),
    baseModelId: z.string(),
    resultModelId: z.string().nullable(),
    config: z.record(z.string(), z.unknown()).openapi({ description: 'The training configuration, defaults filled in' }),
    createdAt: timestampOut(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    errorMessage: z.string().nullable(),
    name: z.string().openapi({ description: 'Extension' }),
    dataSource: z.record(z.string(), z.unknown()).openapi({ description: 'Extension' }),
    sessionCount: z.number().int().openapi({ description: 'Extension: sessions the data source matched at creation' }),
    progress: Progress.nullable().openapi({ description: 'Extension: stage, epoch and loss (live while running: the training activity\'s heartbeat)' }),
    metrics: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Extension: held-out and base evaluation, training history, promotion decision' }),
  })
  .openapi('FineTuneJob');

export const JobIdParams = z.object({ job_id: text(100, 1) });

/** `active`: whether the model analyses the caller's sessions (domain/models/fine-tune.ts, `isActiveFor`). */
export function presentModel(m: MlModel, active: boolean): z.infer<typeof ModelOut> {
  return {
    id: m.id,
    name: m.name,
    type: m.type as (typeof MODEL_TYPES)[number],
    version: m.version,
    isBase: m.isBase,
    baseModel: m.baseModel,
    metrics: m.metrics,
    status: m.status,
    active,
    createdAt: iso(m.createdAt)!,
  };
}

/** A model with where its artifact lives (GET /v1/models/{model_id}). */
export function presentModelDetail(m: MlModel, active: boolean): z.infer<typeof ModelDetailOut> {
  return { ...presentModel(m, active), s3Path: m.artifactPath, description: m.description, featureVersion: m.featureVersion, card: m.card, fineTuneJobId: m.fineTuneJobId };
}

/** The answer of POST /v1/models/fine-tune. */
export function presentFineTuneCreated(j: FineTuneJob): z.infer<typeof FineTuneCreated> {
  return { jobId: j.id, status: j.status, baseModelId: j.baseModelId, createdAt: iso(j.createdAt)!, name: j.name, sessionCount: j.sessionCount };
}

export function presentFineTuneJob(j: FineTuneJob, live: z.infer<typeof Progress> | null): z.infer<typeof FineTuneJobOut> {
  return {
    jobId: j.id,
    status: j.status,
    baseModelId: j.baseModelId,
    resultModelId: j.resultModelId,
    config: j.trainingConfig,
    createdAt: iso(j.createdAt)!,
    startedAt: iso(j.startedAt),
    completedAt: iso(j.completedAt),
    errorMessage: j.errorMessage,
    name: j.name,
    dataSource: j.dataSource,
    sessionCount: j.sessionCount,
    progress: live ?? (j.progress as z.infer<typeof Progress> | null),
    metrics: j.metrics,
  };
}
