import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

/**
 * A detection model in the registry. Base models (no tenant) are seeded from the committed model
 * cards; a tenant's fine-tuned models belong to that tenant and are seen only by it.
 */
export class MlModel {
  /** e.g. `csar-2@1.0.0`. */
  id!: string;
  tenant: Tenant | null = null;
  name!: string;
  /** `csar_2`, `csar_c_2` or `sorc`. */
  type!: string;
  version!: string;
  isBase!: boolean;
  baseModel: string | null = null;
  metrics: Record<string, unknown> | null = null;
  status!: 'active' | 'training' | 'archived';
  createdAt!: Date;
  /** Base models: repository-relative path of the ONNX artifact; tenant models: absolute path under EVNI_MODELS_DIR. */
  artifactPath: string | null = null;
  description: string | null = null;
  featureVersion!: string;
  /** A fine-tuned model's card (training data, configuration, evaluation); null for base models (their cards are committed). */
  card: Record<string, unknown> | null = null;
  /** The fine-tuning job that made it (tenant models). */
  fineTuneJobId: string | null = null;
}

export const MlModelSchema = new EntitySchema<MlModel>({
  class: MlModel,
  tableName: 'ml_models',
  properties: {
    id: { type: 'string', length: 100, primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, nullable: true, deleteRule: 'cascade' },
    name: { type: 'string', length: 200 },
    type: { type: 'string', length: 32 },
    version: { type: 'string', length: 50 },
    isBase: { type: 'boolean' },
    baseModel: { type: 'string', length: 100, nullable: true },
    metrics: { type: 'json', nullable: true },
    status: { type: 'string', length: 16 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    artifactPath: { type: 'string', length: 500, nullable: true },
    description: { type: 'text', nullable: true },
    featureVersion: { type: 'string', length: 50 },
    card: { type: 'json', nullable: true, lazy: true },
    fineTuneJobId: { type: 'uuid', nullable: true },
  },
});
