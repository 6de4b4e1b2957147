// The model registry table: base models are upserted from the committed model cards whenever an
// API process starts, so GET /v1/models always shows the metrics the evaluation measured.
import fs from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql } from '../../db/sql';
import type { ModelRecord } from '../../models/registry';

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

/** The committed base models, or none when the artifacts are not there (a checkout without models). */
export function committedBaseModels(): ModelRecord[] {
  // Loaded lazily: the registry reads the cards next to the ONNX artifacts.
  const { baseModels } = require('../../models/registry') as typeof import('../../models/registry');
  const { ARTIFACTS_DIR } = require('../../models/onnx-detector') as typeof import('../../models/onnx-detector');
  if (!fs.existsSync(ARTIFACTS_DIR)) return [];
  try {
    return baseModels();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
