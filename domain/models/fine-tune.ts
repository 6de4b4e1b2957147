// Fine-tuning jobs as the API and the workflow's TypeScript activities see them: creating a job
// (validation, the data check, the workflow start), reading it, cancelling it, registering the
// trained model, and which model is a tenant's active one (promotion). The tensors are written by
// ./fine-tune-data.ts; training runs on the Python worker (models/training/worker/).
import { readFileSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import { FineTuneJob, MlModel, Tenant, type FineTuneStatus } from '../../entities';
import { pgArray, sql } from '../../db/sql';
import { conflict, invalid, notFound, unavailable } from '../errors';
import { isUuid } from '../ids';
import type { TenantModel } from './registry';
import type { DataSource, EvaluationResult, ExportedData, FineTuneInput, FineTuneSettings, RegisteredModel, TrainingConfig, TrainingResult } from '../../workflows/fine-tune/contract';

/** The request of POST /v1/models/fine-tune after validation (api/schemas/models.ts makes it). */
export interface FineTuneRequest {
  baseModelId: string;
  name: string;
  trainingConfig: TrainingConfig;
  dataSource: DataSource;
}

/** Base models whose graph can be fine-tuned: CSAR-C-2 and CSAR-2 are one shared-encoder graph. */
const TUNABLE_TYPES = ['csar_c_2', 'csar_2'];

export const TERMINAL: FineTuneStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * The sessions a data source takes: the tenant's analysed sessions (status `active`), filtered by
 * station and start time (`sessions`), or those one of its batches wrote (`upload`).
 */
export function sourceSql(tenantId: string, ds: DataSource): { from: string; params: unknown[] } {
  if (ds.type === 'upload') {
    return {
      from: `charging_sessions s where s.tenant_id = ? and s.status = 'active'
        and s.id in (select bi.session_db_id from batch_items bi where bi.tenant_id = ? and bi.batch_id = ? and bi.session_db_id is not null)`,
      params: [tenantId, tenantId, ds.batchId],
    };
  }
  const f = ds.sessionFilter ?? {};
  let from = `charging_sessions s where s.tenant_id = ? and s.status = 'active'`;
  const params: unknown[] = [tenantId];
  if (f.chargingStationIds?.length) {
    from += ` and s.station_id in (select st.id from charging_stations st where st.tenant_id = ? and st.station_id = any(?::text[]))`;
    params.push(tenantId, pgArray(f.chargingStationIds));
  }
  if (f.dateFrom) {
    from += ` and coalesce(s.started_at, s.created_at) >= ?`;
    params.push(f.dateFrom);
  }
  if (f.dateTo) {
    from += ` and coalesce(s.started_at, s.created_at) <= ?`;
    params.push(f.dateTo);
  }
  return { from, params };
}

async function countSource(em: EntityManager, tenantId: string, ds: DataSource): Promise<number> {
  const q = sourceSql(tenantId, ds);
  const [row] = await sql(em, `select count(*)::int as n from ${q.from}`, q.params);
  return row.n as number;
}

/** The model a job may start from: a tunable base model, or one of the tenant's own fine-tuned models. */
export async function tunableModel(em: EntityManager, tenantId: string, modelId: string): Promise<MlModel | null> {
  const m = await em.findOne(MlModel, { id: modelId }, { filters: false });
  if (!m || !TUNABLE_TYPES.includes(m.type) || m.status !== 'active') return null;
  if (m.tenant && m.tenant.id !== tenantId) return null;
  return m;
}

/**
 * Validates the request against the tenant's data, stores the job (`queued`) and starts its
 * workflow. A workflow that cannot be started leaves nothing behind (503).
 */
export async function createFineTuneJob(
  em: EntityManager,
  input: { tenantId: string; request: FineTuneRequest; settings: FineTuneSettings; start(input: FineTuneInput): Promise<void> },
): Promise<FineTuneJob> {
  const { tenantId, request, settings } = input;
  if (!(await tunableModel(em, tenantId, request.baseModelId))) {
    throw invalid(`Validation failed at baseModelId: no model "${request.baseModelId}" this tenant can fine-tune (the base CSAR-C-2 or CSAR-2 model, or one of its own fine-tuned models; see GET /v1/models)`, [
      { loc: ['body', 'baseModelId'], msg: 'no model this tenant can fine-tune' },
    ]);
  }
  const ds = request.dataSource;
  if (ds.type === 'upload') {
    const [batch] = isUuid(ds.batchId) ? await sql(em, 'select 1 from batches where tenant_id = ? and id = ?', [tenantId, ds.batchId]) : [];
    if (!batch) throw invalid(`Validation failed at dataSource.batchId: no batch "${ds.batchId}" in this tenant`, [{ loc: ['body', 'dataSource', 'batchId'], msg: 'no such batch in this tenant' }]);
  }
  const n = await countSource(em, tenantId, ds);
  if (n < settings.minSessions) {
    const msg = `too little data: ${n} analysed session(s) match the data source; fine-tuning needs at least ${settings.minSessions}`;
    throw invalid(`Validation failed at dataSource: ${msg}`, [{ loc: ['body', 'dataSource'], msg }]);
  }
  const job = new FineTuneJob({
    tenant: em.getReference(Tenant, tenantId),
    baseModelId: request.baseModelId,
    name: request.name,
    trainingConfig: { ...request.trainingConfig },
    dataSource: { ...request.dataSource },
    sessionCount: Math.min(n, settings.maxSessions),
  });
  await em.persistAndFlush(job);
  try {
    await input.start({ tenantId, jobId: job.id, baseModelId: request.baseModelId, name: request.name, trainingConfig: request.trainingConfig, dataSource: ds, settings });
  } catch (err) {
    await sql(em, 'delete from fine_tune_jobs where tenant_id = ? and id = ?', [tenantId, job.id]);
    throw unavailable(`Could not start the fine-tuning job: ${(err as Error).message}`);
  }
  return job;
}

/** One of the tenant's jobs (the request's tenant filter decides); `not_found` otherwise. */
export async function getFineTuneJob(em: EntityManager, jobId: string): Promise<FineTuneJob> {
  const job = isUuid(jobId) ? await em.findOne(FineTuneJob, { id: jobId }) : null;
  if (!job) throw notFound('Fine-tuning job');
  return job;
}

/** Asks the job's workflow to stop; a finished job is a 409. The workflow marks it `cancelled`. */
export async function cancelFineTuneJob(em: EntityManager, jobId: string, cancel: (tenantId: string, jobId: string) => Promise<void>): Promise<FineTuneJob> {
  const job = await getFineTuneJob(em, jobId);
  if (TERMINAL.includes(job.status)) throw conflict(`Fine-tuning job ${jobId} is already ${job.status}`);
  try {
    await cancel(job.tenant.id, job.id);
  } catch (err) {
    throw unavailable(`Could not cancel the fine-tuning job: ${(err as Error).message}`);
  }
  return job;
}

/**
 * The tenant's active fine-tuned model (its id and ONNX file), or null: the base models analyse its
 * sessions. The detector registry serves it and the model list marks it, from this one lookup.
 */
export async function activeModel(em: EntityManager, tenantId: string): Promise<{ id: string; artifactPath: string } | null> {
  const [row] = await sql(
    em,
    `select m.id, m.artifact_path from tenant_active_models a join ml_models m on m.id = a.model_id
      where a.tenant_id = ? and m.tenant_id = a.tenant_id and m.status = 'active'`,
    [tenantId],
  );
  return row?.artifact_path ? { id: row.id as string, artifactPath: row.artifact_path as string } : null;
}

/** The tenant's active model id, or null. */
export const activeModelId = async (em: EntityManager, tenantId: string): Promise<string | null> => (await activeModel(em, tenantId))?.id ?? null;

/** Whether a model analyses this tenant's sessions: its active fine-tuned model, or else the base models. */
export function isActiveFor(m: MlModel, activeId: string | null): boolean {
  if (m.status !== 'active') return false;
  if (!m.isBase) return m.id === activeId;
  // SORC is served inside every bundle, a tenant's too; SHADE judges stations, whatever the session model.
  return activeId === null || m.type === 'sorc' || m.type === 'shade';
}

/**
 * Explicit promotion: one of the tenant's fine-tuned models becomes its active model; a base model
 * (CSAR-C-2 or CSAR-2) sends the tenant back to the base models.
 */
export async function promoteModel(em: EntityManager, tenantId: string, modelId: string): Promise<TenantModel> {
  const model = await em.findOne(MlModel, { id: modelId });
  if (!model) throw notFound('Model');
  if (model.status !== 'active') throw conflict(`Model ${modelId} is ${model.status}`);
  if (model.isBase) {
    if (!TUNABLE_TYPES.includes(model.type)) throw conflict(`Model ${modelId} (${model.type}) is served to every tenant; only CSAR-C-2/CSAR-2 models can be promoted`);
    await sql(em, 'delete from tenant_active_models where tenant_id = ?', [tenantId]);
  } else {
    await setActive(em, tenantId, model.id, 'explicit');
  }
  return { model, active: isActiveFor(model, model.isBase ? null : model.id) };
}

async function setActive(em: EntityManager, tenantId: string, modelId: string, by: 'evaluation' | 'explicit'): Promise<void> {
  await sql(
    em,
    `insert into tenant_active_models (tenant_id, model_id, promoted_at, promoted_by) values (?, ?, now(), ?)
     on conflict (tenant_id) do update set model_id = excluded.model_id, promoted_at = excluded.promoted_at, promoted_by = excluded.promoted_by`,
    [tenantId, modelId, by],
  );
}

// ── The workflow's TypeScript activities ─────────────────────────────────────────────────────────

export async function markJobRunning(em: EntityManager, tenantId: string, jobId: string): Promise<void> {
  await sql(
    em,
    `update fine_tune_jobs set status = 'running', started_at = coalesce(started_at, now()), progress = '{"stage": "exporting"}'::jsonb, updated_at = now()
      where tenant_id = ? and id = ? and status in ('queued', 'running')`,
    [tenantId, jobId],
  );
}

/** A job that failed or was cancelled; `stage` (where it stopped) becomes its stored progress. */
export async function finishJob(em: EntityManager, tenantId: string, jobId: string, status: 'failed' | 'cancelled', errorMessage: string | null, stage: string): Promise<void> {
  await sql(
    em,
    `update fine_tune_jobs set status = ?, error_message = ?, completed_at = now(), updated_at = now(),
        progress = jsonb_build_object('stage', ?::text)
      where tenant_id = ? and id = ? and status in ('queued', 'running')`,
    [status, errorMessage, stage, tenantId, jobId],
  );
}

/**
 * Registers the trained model (its card written by the training worker's ONNX export) as the
 * tenant's, decides the promotion, and completes the job — one transaction, so a retry after a
 * crash either finds all of it or none of it.
 */
export async function registerFineTunedModel(
  em: EntityManager,
  input: { tenantId: string; jobId: string; data: ExportedData; training: TrainingResult; evaluation: EvaluationResult; promotionMargin: number },
): Promise<RegisteredModel> {
  const { tenantId, jobId, data, training, evaluation } = input;
  const card = JSON.parse(readFileSync(`${data.modelDir}/csar-c-2.card.json`, 'utf8')) as Record<string, any>;
  const base = evaluation.baseEvaluation.base.score;
  const tuned = evaluation.baseEvaluation.fineTuned.score;
  const regression = round4(base - tuned);
  const promoted = regression <= input.promotionMargin;
  const promotion = {
    promoted,
    regression,
    margin: input.promotionMargin,
    rule: 'promoted when the base model\'s base-evaluation score (session + bucket macro-F1) exceeds the fine-tuned model\'s by at most the margin',
  };
  const metrics = { heldOut: evaluation.heldOut, baseEvaluation: evaluation.baseEvaluation, training: { epochs: training.epochs, finalLoss: training.finalLoss, history: training.history, resumedFromEpoch: training.resumedFromEpoch, attempt: training.attempt, seconds: training.seconds }, promotion };
  return em.transactional(async (tem) => {
    const [job] = await sql(tem, 'select status, result_model_id from fine_tune_jobs where tenant_id = ? and id = ? for update', [tenantId, jobId]);
    if (!job) throw new Error(`fine-tuning job ${jobId} of tenant ${tenantId} is gone`);
    if (job.status === 'completed') return { modelId: job.result_model_id as string, promoted, regression };
    await sql(
      tem,
      `insert into ml_models (id, tenant_id, name, type, version, is_base, base_model, metrics, status, created_at, artifact_path, description, feature_version, card, fine_tune_job_id)
       values (?, ?, ?, 'csar_c_2', ?, false, ?, ?::jsonb, 'active', now(), ?, ?, ?, ?::jsonb, ?)
       on conflict (id) do nothing`,
      [data.modelId, tenantId, card.name, data.modelVersion, card.baseModel, JSON.stringify(metrics), `${data.modelDir}/csar-c-2.onnx`, card.description ?? null, data.featureVersion, JSON.stringify(card), jobId],
    );
    if (promoted) await setActive(tem, tenantId, data.modelId, 'evaluation');
    const last = training.history[training.history.length - 1];
    await sql(
      tem,
      `update fine_tune_jobs set status = 'completed', result_model_id = ?, metrics = ?::jsonb, progress = ?::jsonb, completed_at = now(), updated_at = now()
        where tenant_id = ? and id = ?`,
      [
        data.modelId,
        JSON.stringify({ ...metrics, data: { sessions: data.sessions, buckets: data.buckets, labels: data.labels } }),
        JSON.stringify({ stage: 'completed', epoch: training.epochs, epochs: training.epochs, loss: last?.loss ?? null }),
        tenantId,
        jobId,
      ],
    );
    return { modelId: data.modelId, promoted, regression };
  });
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
