// Which detector analyses a tenant's sessions. Today every tenant gets the served base models (the
// committed artifacts, ONNX sessions created once per process); a tenant's fine-tuned models will
// be resolved here. The worker creates one and hands it to the activities.
import type { BatchDetector, DetectorRegistry } from '../../domain/analysis/types';
import { OnnxDetector } from './onnx-detector';
import { ARTIFACTS_DIR } from './paths';

export class ServedDetectorRegistry implements DetectorRegistry {
  private base: Promise<OnnxDetector> | null = null;

  constructor(private readonly opts: { threads: number; dir?: string }) {}

  forTenant(_tenantId: string): Promise<BatchDetector> {
    return this.served();
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
}
