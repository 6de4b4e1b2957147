import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

export const FINE_TUNE_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type FineTuneStatus = (typeof FINE_TUNE_STATUSES)[number];

/**
 * A fine-tuning job: a tenant's request to train its own model from a base model on its own
 * sessions. The durable work is the Temporal workflow `fine-tune/<tenant>/<job id>`; this row holds
 * what the API answers (status, last progress, metrics, the resulting model).
 */
export class FineTuneJob {
  id: string = randomUUID();
  tenant: Tenant;
  baseModelId: string;
  name: string;
  trainingConfig: Record<string, unknown>;
  dataSource: Record<string, unknown>;
  status: FineTuneStatus = 'queued';
  /** The last progress recorded here (stage, epoch, loss); a running job's live progress comes from Temporal. */
  progress: Record<string, unknown> | null = null;
  metrics: Record<string, unknown> | null = null;
  resultModelId: string | null = null;
  errorMessage: string | null = null;
  /** Sessions the data source matched when the job was created. */
  sessionCount: number;
  createdAt: Date = new Date();
  startedAt: Date | null = null;
  completedAt: Date | null = null;
  updatedAt: Date = new Date();

  constructor(init: Pick<FineTuneJob, 'tenant' | 'baseModelId' | 'name' | 'trainingConfig' | 'dataSource' | 'sessionCount'>) {
    this.tenant = init.tenant;
    this.baseModelId = init.baseModelId;
    this.name = init.name;
    this.trainingConfig = init.trainingConfig;
    this.dataSource = init.dataSource;
    this.sessionCount = init.sessionCount;
  }
}

export const FineTuneJobSchema = new EntitySchema<FineTuneJob>({
  class: FineTuneJob,
  tableName: 'fine_tune_jobs',
  indexes: [{ properties: ['tenant', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    baseModelId: { type: 'string', length: 100 },
    name: { type: 'string', length: 128 },
    trainingConfig: { type: 'json' },
    dataSource: { type: 'json' },
    status: { type: 'string', length: 16 },
    progress: { type: 'json', nullable: true },
    metrics: { type: 'json', nullable: true },
    resultModelId: { type: 'string', length: 100, nullable: true },
    errorMessage: { type: 'text', nullable: true },
    sessionCount: { type: 'integer' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    startedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});
