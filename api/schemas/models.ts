// Model registry response schemas and the presenter of stored models.
import type { MlModel } from '../../entities';
import { iso, text, timestampOut } from './common';
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
    createdAt: timestampOut(),
  })
  .openapi('Model');

export const ModelList = z.object({ models: z.array(ModelOut) }).openapi('ModelList');

export const ModelDetailOut = ModelOut.extend({
  s3Path: z.string().nullable().openapi({ description: 'Where the artifact is stored (repository-relative path here)' }),
  description: z.string().nullable(),
  featureVersion: z.string(),
}).openapi('ModelDetail');

export const ModelIdParams = z.object({ model_id: text(100, 1) });

export function presentModel(m: MlModel): z.infer<typeof ModelOut> {
  return {
    id: m.id,
    name: m.name,
    type: m.type as (typeof MODEL_TYPES)[number],
    version: m.version,
    isBase: m.isBase,
    baseModel: m.baseModel,
    metrics: m.metrics,
    status: m.status,
    createdAt: iso(m.createdAt)!,
  };
}

/** A model with where its artifact lives (GET /v1/models/{model_id}). */
export function presentModelDetail(m: MlModel): z.infer<typeof ModelDetailOut> {
  return { ...presentModel(m), s3Path: m.artifactPath, description: m.description, featureVersion: m.featureVersion };
}
