// The model registry table: base models are upserted from the committed model cards whenever an
// API process starts, so GET /v1/models always shows the metrics the evaluation measured.
import type { EntityManager } from '@mikro-orm/postgresql';
import { MlModel } from '../../entities';
import { pgArray, sql } from '../../db/sql';
import { notFound } from '../errors';
import { activeModelId, isActiveFor } from './fine-tune';

/** A model as the registry table and GET /v1/models hold it (seeds/002 shapes). */
export interface ModelRecord {
  id: string;
  name: string;
  /** "csar_2" | "csar_c_2" | "sorc" | "shade" */
  type: string;
  version: string;
  isBase: boolean;
  baseModel: string | null;
  metrics: Record<string, unknown> | null;
  status: 'active' | 'training' | 'archived';
  createdAt: string;
  /** Where the artifact lives (repository-relative path; no object store here). */
  s3Path: string | null;
  description: string | null;
  featureVersion: string;
}

export async function syncBaseModels(em: EntityManager, records: ModelRecord[]): Promise<number> {
  await em.transactional(async (tem) => {
    for (const r of records) {
      await sql(
        tem,
        `insert into ml_models (id, tenant_id, name, type, version, is_base, base_model, metrics, status, created_at, artifact_path, description, feature_version)
         values (?, null, ?, ?, ?, true, null, ?::jsonb, ?, ?, ?, ?, ?)
         on conflict (id) do update set name = excluded.name, type = excluded.type, version = excluded.version, metrics = excluded.metrics,
           status = excluded.status, created_at = excluded.created_at, artifact_path = excluded.artifact_path,
           description = excluded.description, feature_version = excluded.feature_version`,
        [r.id, r.name, r.type, r.version, JSON.stringify(r.metrics), r.status, r.createdAt, r.s3Path, r.description, r.featureVersion],
      );
    }
    // Base models whose card is gone are archived, not deleted (fine-tuned models may name them).
    await sql(tem, `update ml_models set status = 'archived' where is_base and not (id = any(?::text[]))`, [pgArray(records.map((r) => r.id))]);
  });
  return records.length;
}

export interface TenantModel {
  model: MlModel;
  /** Whether it analyses the tenant's sessions now (see `isActiveFor`). */
  active: boolean;
}

/** The base models and the tenant's own (the request's tenant filter decides): base first, newest first. */
export async function listModels(em: EntityManager, tenantId: string): Promise<TenantModel[]> {
  const [models, activeId] = await Promise.all([em.find(MlModel, {}, { orderBy: { isBase: 'desc', createdAt: 'desc', id: 'asc' } }), activeModelId(em, tenantId)]);
  return models.map((model) => ({ model, active: isActiveFor(model, activeId) }));
}

/** One model the tenant can see (another tenant's is `not_found`), with its card. */
export async function getModel(em: EntityManager, tenantId: string, modelId: string): Promise<TenantModel> {
  const model = await em.findOne(MlModel, { id: modelId }, { populate: ['card'] });
  if (!model) throw notFound('Model');
  return { model, active: isActiveFor(model, await activeModelId(em, tenantId)) };
}
