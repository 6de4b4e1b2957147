import { MlModel } from '../../entities';
import { notFound } from '../http-error';
import { defineRoute } from '../route';
import { ErrorSchema, iso } from '../schemas/common';
import { z } from '../zod';

const ModelOut = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string().openapi({ description: 'csar_2, csar_c_2 or sorc' }),
    version: z.string(),
    isBase: z.boolean(),
    baseModel: z.string().nullable(),
    metrics: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Held-out evaluation metrics from the model card' }),
    status: z.enum(['active', 'training', 'archived']),
    createdAt: z.string(),
  })
  .openapi('Model');

const ModelDetailOut = ModelOut.extend({
  s3Path: z.string().nullable().openapi({ description: 'Where the artifact is stored (repository-relative path here)' }),
  description: z.string().nullable(),
  featureVersion: z.string(),
}).openapi('ModelDetail');

const present = (m: MlModel) => ({
  id: m.id,
  name: m.name,
  type: m.type,
  version: m.version,
  isBase: m.isBase,
  baseModel: m.baseModel,
  metrics: m.metrics,
  status: m.status,
  createdAt: iso(m.createdAt)!,
});

export const modelRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/models',
    summary: 'List models',
    description: "The base models (with the metrics of their held-out evaluation) and the caller's fine-tuned models.",
    tags: ['Models'],
    access: 'member',
    responses: { 200: { description: 'Models', schema: z.object({ models: z.array(ModelOut) }).openapi('ModelList') } },
    handler: async ({ em }) => {
      const models = await em.find(MlModel, {}, { orderBy: { isBase: 'desc', createdAt: 'desc', id: 'asc' } });
      return { body: { models: models.map(present) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/models/{model_id}',
    summary: 'Get a model',
    description: 'Version, metrics, training date, status and where the artifact lives.',
    tags: ['Models'],
    access: 'member',
    params: z.object({ model_id: z.string().max(100) }),
    responses: { 200: { description: 'The model', schema: ModelDetailOut }, 404: { description: 'No such model for this tenant', schema: ErrorSchema } },
    handler: async ({ em, params }) => {
      const m = await em.findOne(MlModel, { id: params.model_id });
      if (!m) throw notFound('Model');
      return { body: { ...present(m), s3Path: m.artifactPath, description: m.description, featureVersion: m.featureVersion } };
    },
  }),
];
