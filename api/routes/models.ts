// Models and fine-tuning: HTTP only; the logic is in domain/models/ (registry, jobs, promotion),
// the workflow calls in temporal/fine-tune.ts. Reads for every member, fine-tuning and promotion
// for admins (api/permissions.ts).
import { getModel, listModels } from '../../domain/models/registry';
import { cancelFineTuneJob, createFineTuneJob, getFineTuneJob, promoteModel, TERMINAL } from '../../domain/models/fine-tune';
import { cancelFineTune, liveProgress, startFineTune } from '../../temporal/fine-tune';
import type { AppDeps } from '../context';
import { defineRoute } from '../route';
import { ErrorSchema } from '../schemas/common';
import {
  FineTuneCreate,
  FineTuneCreated,
  FineTuneJobOut,
  JobIdParams,
  ModelDetailOut,
  ModelIdParams,
  ModelList,
  ModelOut,
  presentFineTuneCreated,
  presentFineTuneJob,
  presentModel,
  presentModelDetail,
} from '../schemas/models';

const jobNotFound = { 404: { description: 'No such fine-tuning job in this tenant', schema: ErrorSchema } };
const modelNotFound = { 404: { description: 'No such model for this tenant', schema: ErrorSchema } };

/** The settings a new job keeps (from the API's configuration). */
const settingsOf = (config: AppDeps['config']) => ({
  trainingTaskQueue: config.trainingTaskQueue,
  heartbeatTimeoutMs: config.fineTuneHeartbeatTimeoutMs,
  promotionMargin: config.fineTunePromotionMargin,
  baseEvalSessions: config.fineTuneBaseEvalSessions,
  minSessions: config.fineTuneMinSessions,
  maxSessions: config.fineTuneMaxSessions,
});

export const modelRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/models',
    summary: 'List models',
    description:
      "The base models (with the metrics of their held-out evaluation) and the caller's fine-tuned models. `active` (extension) marks the models that analyse the caller's sessions now.",
    tags: ['Models'],
    responses: { 200: { description: 'Models', schema: ModelList } },
    handler: async ({ em, auth }) => ({ body: { models: (await listModels(em, auth.tenant.id)).map((m) => presentModel(m.model, m.active)) } }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/models/{model_id}',
    summary: 'Get a model',
    description: "Version, metrics, training date, status and where the artifact lives; a fine-tuned model's card (extension). Another tenant's model is a 404.",
    tags: ['Models'],
    params: ModelIdParams,
    responses: { 200: { description: 'The model', schema: ModelDetailOut }, ...modelNotFound },
    handler: async ({ em, auth, params }) => {
      const m = await getModel(em, auth.tenant.id, params.model_id);
      return { body: presentModelDetail(m.model, m.active) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/models/{model_id}/promote',
    summary: 'Promote a model (extension)',
    description:
      "Extension: makes one of your fine-tuned models the one that analyses your sessions (interactive and batch), whatever its evaluation; promoting a base CSAR-C-2 or CSAR-2 model goes back to the base models. Needs the admin role.",
    tags: ['Models'],
    params: ModelIdParams,
    responses: { 200: { description: 'The model, now active', schema: ModelOut }, ...modelNotFound, 409: { description: 'The model cannot be promoted (archived, or SORC)', schema: ErrorSchema } },
    handler: async ({ em, auth, params }) => {
      const m = await promoteModel(em, auth.tenant.id, params.model_id);
      return { body: presentModel(m.model, m.active) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/models/fine-tune',
    summary: 'Start fine-tuning',
    description:
      "Trains a model of your own from a base model on your sessions, as one durable Temporal workflow (`fine-tune/<tenant>/<job id>`): the sessions are exported to tensors, a Python worker trains (progress in GET), the model is evaluated on a held-out split of your sessions and on the base evaluation set, exported to ONNX and registered as yours. It becomes your active model when it does not regress the base evaluation by more than the configured margin (or by `POST /v1/models/{model_id}/promote`). " +
      'Labels: the verdicts stored for your sessions, with the categories your anomaly workspace marked FALSE_POSITIVE removed. Too few sessions is a 422 naming the minimum. Needs the admin role.',
    tags: ['Models'],
    body: FineTuneCreate,
    responses: {
      200: { description: 'The queued job', schema: FineTuneCreated },
      422: { description: 'Invalid request: unknown base model or batch, or too little data (the detail names the minimum)', schema: ErrorSchema },
    },
    handler: async ({ em, auth, body, deps }) => {
      const job = await createFineTuneJob(em, {
        tenantId: auth.tenant.id,
        request: body,
        settings: settingsOf(deps.config),
        start: (input) => startFineTune(deps.temporal, deps.config.taskQueue, input),
      });
      return { body: presentFineTuneCreated(job) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/models/fine-tune/{job_id}',
    summary: 'Fine-tuning status',
    description: "Status, progress (stage, epoch and loss; live from the training worker's heartbeat while it runs), metrics, the resulting model, timestamps and the error message.",
    tags: ['Models'],
    params: JobIdParams,
    responses: { 200: { description: 'The job', schema: FineTuneJobOut }, ...jobNotFound },
    handler: async ({ em, params, deps, log }) => {
      const job = await getFineTuneJob(em, params.job_id);
      let live = null;
      if (!TERMINAL.includes(job.status)) {
        // Best effort: without Temporal the stored progress is answered.
        live = await liveProgress(deps.temporal, job.tenant.id, job.id).catch((err) => (log.warn({ err, jobId: job.id }, 'fine-tune progress unavailable'), null));
      }
      return { body: presentFineTuneJob(job, live) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/models/fine-tune/{job_id}/cancel',
    summary: 'Cancel fine-tuning (extension)',
    description:
      'Extension: asks the job to stop (202); the running step is cancelled and the job becomes `cancelled` shortly after. A finished job is a 409. Needs the admin role.',
    tags: ['Models'],
    params: JobIdParams,
    responses: { 202: { description: 'Cancellation requested', schema: FineTuneJobOut }, ...jobNotFound, 409: { description: 'The job has finished', schema: ErrorSchema } },
    handler: async ({ em, params, deps }) => {
      const job = await cancelFineTuneJob(em, params.job_id, (tenantId, jobId) => cancelFineTune(deps.temporal, tenantId, jobId));
      return { status: 202, body: presentFineTuneJob(job, null) };
    },
  }),
];
