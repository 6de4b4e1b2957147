import { getModel, listModels } from '../../domain/models/registry';
import { defineRoute } from '../route';
import { ErrorSchema } from '../schemas/common';
import { ModelDetailOut, ModelIdParams, ModelList, presentModel, presentModelDetail } from '../schemas/models';

export const modelRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/models',
    summary: 'List models',
    description: "The base models (with the metrics of their held-out evaluation) and the caller's fine-tuned models.",
    tags: ['Models'],
    responses: { 200: { description: 'Models', schema: ModelList } },
    handler: async ({ em }) => ({ body: { models: (await listModels(em)).map(presentModel) } }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/models/{model_id}',
    summary: 'Get a model',
    description: 'Version, metrics, training date, status and where the artifact lives.',
    tags: ['Models'],
    params: ModelIdParams,
    responses: { 200: { description: 'The model', schema: ModelDetailOut }, 404: { description: 'No such model for this tenant', schema: ErrorSchema } },
    handler: async ({ em, params }) => ({ body: presentModelDetail(await getModel(em, params.model_id)) }),
  }),
];
