// The fine-tuning workflow's contract: its input, id, search attributes and the activities of its
// two workers — the TypeScript worker (data export, registration) and the Python training worker
// (models/training/worker/, task queue `training`: training, evaluation, ONNX export). Pure definitions.
import { TENANT_ID } from '../search-attributes';

/** One workflow per job: `fine-tune/<tenant id>/<job id>`. */
export const fineTuneWorkflowId = (tenantId: string, jobId: string) => `fine-tune/${tenantId}/${jobId}`;

export const FINE_TUNE_SEARCH_ATTRIBUTES = { tenant: TENANT_ID } as const;

/** Failure types no retry can cure (bad data, a missing base model): the job fails at once. */
export const FINE_TUNE_FAILURE = { invalidData: 'InvalidTrainingData', noBaseModel: 'NoBaseModel', unsupported: 'FineTuneUnsupported' } as const;

/** Training hyper-parameters (validated by the API; every field has a default there). */
export interface TrainingConfig {
  epochs: number;
  learningRate: number;
  /** Padded buckets per batch (15-s buckets; a 6-hour session is 1,440). */
  batchBuckets: number;
  weightDecay: number;
  /** Weight of the autoencoder's reconstruction loss (anomaly-free buckets) beside the category loss. */
  reconstructionWeight: number;
  /** Share of the tenant's sessions held out for evaluation. */
  heldOutFraction: number;
  seed: number;
}

export type DataSource =
  | { type: 'sessions'; sessionFilter?: { chargingStationIds?: string[] | null; dateFrom?: string | null; dateTo?: string | null } | null }
  | { type: 'upload'; batchId: string };

/** Service settings the API passes in (so that a job keeps the settings it started with). */
export interface FineTuneSettings {
  trainingTaskQueue: string;
  heartbeatTimeoutMs: number;
  promotionMargin: number;
  baseEvalSessions: number;
  minSessions: number;
  maxSessions: number;
}

export interface FineTuneInput {
  tenantId: string;
  jobId: string;
  baseModelId: string;
  name: string;
  trainingConfig: TrainingConfig;
  dataSource: DataSource;
  settings: FineTuneSettings;
}

/** Where the exported tensors are and what the Python activities need (absolute paths on the workers' shared disk). */
export interface ExportedData {
  workDir: string;
  trainDir: string;
  heldOutDir: string;
  /** Cached export of the base evaluation set (the validation corpus), created by the training worker when absent. */
  baseEvalDir: string;
  /** The ONNX graph training starts from (the base model's, or a tenant model's). */
  startOnnx: string;
  /** The committed base model's graph: the reference of the base evaluation. */
  referenceOnnx: string;
  baseArtifactsDir: string;
  modelDir: string;
  modelId: string;
  modelVersion: string;
  featureVersion: string;
  sessions: { total: number; train: number; heldOut: number; clean: number; skipped: number };
  buckets: { train: number; heldOut: number };
  labels: { confirmed: number; falsePositives: number; fromVerdicts: number };
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number | null;
  /** Loss per finished epoch. */
  history: { epoch: number; loss: number }[];
  checkpoint: string | null;
}

export interface TrainingResult {
  epochs: number;
  finalLoss: number;
  history: { epoch: number; loss: number }[];
  /** The epoch a retried attempt resumed after (0: trained from the start). */
  resumedFromEpoch: number;
  attempt: number;
  seconds: number;
}

/** Scores of one model on one corpus. */
export interface EvalScores {
  sessions: number;
  bucketMacroF1: number;
  sessionMacroF1: number;
  /** sessionMacroF1 + bucketMacroF1: what the promotion rule compares. */
  score: number;
  cleanReconstructionError: number | null;
}

export interface EvaluationResult {
  heldOut: { base: EvalScores; fineTuned: EvalScores };
  baseEvaluation: { base: EvalScores; fineTuned: EvalScores; corpus: { seed: string; sessions: number } };
}

export interface RegisteredModel {
  modelId: string;
  promoted: boolean;
  /** Base model's base-evaluation score minus the fine-tuned model's (positive: worse). */
  regression: number;
}

/** Activities of the TypeScript worker (the workflow's own task queue). */
export interface FineTuneActivities {
  startFineTuneJob(input: { tenantId: string; jobId: string }): Promise<void>;
  exportFineTuneData(input: FineTuneInput): Promise<ExportedData>;
  registerFineTunedModel(input: { tenantId: string; jobId: string; data: ExportedData; training: TrainingResult; evaluation: EvaluationResult; promotionMargin: number }): Promise<RegisteredModel>;
  /** `stage`: where the job stopped (exporting, training, evaluating, exporting-onnx, registering). */
  finishFineTuneJob(input: { tenantId: string; jobId: string; status: 'failed' | 'cancelled'; errorMessage: string | null; stage: string }): Promise<void>;
}

/** Activities of the Python training worker (task queue `settings.trainingTaskQueue`). */
export interface TrainingActivities {
  /** Heartbeats every epoch with `TrainingProgress`; a retried attempt resumes from the checkpoint its last heartbeat names. */
  trainFineTune(input: { jobId: string; data: ExportedData; config: TrainingConfig }): Promise<TrainingResult>;
  evaluateFineTune(input: { jobId: string; data: ExportedData; baseEvalSessions: number }): Promise<EvaluationResult>;
  exportFineTunedModel(input: { jobId: string; tenantId: string; name: string; baseModelId: string; data: ExportedData; config: TrainingConfig; training: TrainingResult; evaluation: EvaluationResult }): Promise<{ files: string[] }>;
}
