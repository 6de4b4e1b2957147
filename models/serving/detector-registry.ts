// Which detector analyses a tenant's sessions: the tenant's active fine-tuned model when it has one
// (table tenant_active_models, set by promotion; its ONNX files under EVNI_MODELS_DIR), otherwise
// the served base models (the committed artifacts). ONNX sessions are created once per model and
// process. The worker creates one registry and hands it to the activities, so the session actor
// and batch chunks alike get the tenant's model, and each verdict names the version that made it.
import { dirname } from 'node:path';
import type { Orm } from '../../db/orm';
import type { BatchDetector, DetectorRegistry } from '../../domain/analysis/types';
import { activeModel } from '../../domain/models/fine-tune';
import type { FineTuneEnvironment } from '../../domain/models/fine-tune-data';
import { extractFeatures, FEATURE_NAMES, FEATURE_VERSION } from './features';
import { OnnxDetector } from './onnx-detector';
import { ARTIFACTS_DIR } from './paths';

export class ServedDetectorRegistry implements DetectorRegistry {
  /** Loaded bundles by folder (the base models' and each tenant model's); a failed load is retried on the next call. */
  private readonly bundles = new Map<string, Promise<OnnxDetector>>();

  /** Without `orm` every tenant gets the base models (tools and tests that need no tenant models). */
  constructor(private readonly opts: { threads: number; dir?: string; orm?: Orm }) {}

  async forTenant(tenantId: string): Promise<BatchDetector> {
    // One indexed lookup per analysis, so a promotion applies from the next analysis on.
    const active = this.opts.orm ? await activeModel(this.opts.orm.em.fork(), tenantId) : null;
    if (!active) return this.served();
    try {
      return await this.at(dirname(active.artifactPath));
    } catch {
      // A model whose files are gone (data folder lost) must not stop the tenant's analyses: the
      // base models take over, and the verdicts say so (they name the detector that made them).
      return this.served();
    }
  }

  /** The base models. */
  served(): Promise<OnnxDetector> {
    return this.at(this.opts.dir ?? ARTIFACTS_DIR);
  }

  private at(dir: string): Promise<OnnxDetector> {
    let d = this.bundles.get(dir);
    if (!d) {
      d = OnnxDetector.load({ dir, threads: this.opts.threads });
      d.catch(() => this.bundles.delete(dir));
      this.bundles.set(dir, d);
    }
    return d;
  }
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
