// Which detector analyses a tenant's sessions: the tenant's active fine-tuned model when it has one
// (table tenant_active_models, set by promotion; its ONNX files under EVNI_MODELS_DIR), otherwise
// the served base models (the committed artifacts). ONNX sessions are created once per model and
// process. The worker creates one registry and hands it to the activities, so the session actor
// and batch chunks alike get the tenant's model, and each verdict names the version that made it.
import { dirname } from 'node:path';
import type { Orm } from '../../db/orm';
import { sql } from '../../db/sql';
import type { BatchDetector, DetectorRegistry } from '../../domain/analysis/types';
import type { FineTuneEnvironment } from '../../domain/models/fine-tune-data';
import { extractFeatures, FEATURE_NAMES, FEATURE_VERSION } from './features';
import { OnnxDetector } from './onnx-detector';
import { ARTIFACTS_DIR } from './paths';

export class ServedDetectorRegistry implements DetectorRegistry {
  private base: Promise<OnnxDetector> | null = null;
  private readonly tenantModels = new Map<string, Promise<OnnxDetector>>();

  /** Without `orm` every tenant gets the base models (tools and tests that need no tenant models). */
  constructor(private readonly opts: { threads: number; dir?: string; orm?: Orm }) {}

  async forTenant(tenantId: string): Promise<BatchDetector> {
    const active = this.opts.orm ? await activeModel(this.opts.orm, tenantId) : null;
    if (!active) return this.served();
    try {
      return await this.tenantModel(active.id, active.dir);
    } catch {
      // A model whose files are gone (data folder lost) must not stop the tenant's analyses: the
      // base models take over, and the verdicts say so (they name the detector that made them).
      return this.served();
    }
  }

  /** The base models; a failed load is retried on the next call. */
  served(): Promise<OnnxDetector> {
    if (!this.base) {
      const loading = OnnxDetector.load({ dir: this.opts.dir ?? ARTIFACTS_DIR, threads: this.opts.threads });
      loading.catch(() => (this.base = null));
      this.base = loading;
    }
    return this.base;
  }

  private tenantModel(modelId: string, dir: string): Promise<OnnxDetector> {
    let d = this.tenantModels.get(modelId);
    if (!d) {
      d = OnnxDetector.load({ dir, threads: this.opts.threads });
      d.catch(() => this.tenantModels.delete(modelId));
      this.tenantModels.set(modelId, d);
    }
    return d;
  }
}

/** The tenant's active model and the folder of its bundle, or null. One indexed lookup per analysis. */
async function activeModel(orm: Orm, tenantId: string): Promise<{ id: string; dir: string } | null> {
  const [row] = await sql(
    orm.em.fork(),
    `select m.id, m.artifact_path from tenant_active_models a join ml_models m on m.id = a.model_id
      where a.tenant_id = ? and m.tenant_id = a.tenant_id and m.status = 'active'`,
    [tenantId],
  );
  return row?.artifact_path ? { id: row.id as string, dir: dirname(row.artifact_path as string) } : null;
}

/** What the fine-tuning activities need from the served side: the one feature extraction and the folders. */
export function servedFineTuneEnvironment(dirs: { modelsDir: string; fineTuneDir: string }): FineTuneEnvironment {
  return {
    features: { featureVersion: FEATURE_VERSION, featureNames: FEATURE_NAMES, extract: (w, metadata) => extractFeatures(w, metadata) },
    modelsDir: dirs.modelsDir,
    fineTuneDir: dirs.fineTuneDir,
    baseArtifactsDir: ARTIFACTS_DIR,
  };
}
