// The client side of the fine-tuning workflow: start it, cancel it, and read a running job's live
// progress — the training activity's last heartbeat (epoch, loss), which the Temporal UI shows too.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { FINE_TUNE_SEARCH_ATTRIBUTES, fineTuneWorkflowId, type FineTuneInput, type TrainingProgress } from '../workflows/fine-tune/contract';
import { fineTuneWorkflow } from '../workflows/fine-tune/workflow';

export async function startFineTune(client: Client, taskQueue: string, input: FineTuneInput): Promise<void> {
  await client.workflow.start(fineTuneWorkflow, {
    workflowId: fineTuneWorkflowId(input.tenantId, input.jobId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: FINE_TUNE_SEARCH_ATTRIBUTES.tenant, value: input.tenantId }],
    staticSummary: `Fine-tune "${input.name}" from ${input.baseModelId} (${input.trainingConfig.epochs} epochs)`,
  });
}

export async function cancelFineTune(client: Client, tenantId: string, jobId: string): Promise<void> {
  await client.workflow.getHandle(fineTuneWorkflowId(tenantId, jobId)).cancel();
}

/** Activity names → the stage the API reports. */
const STAGES: Record<string, string> = {
  startFineTuneJob: 'exporting',
  exportFineTuneData: 'exporting',
  trainFineTune: 'training',
  evaluateFineTune: 'evaluating',
  exportFineTunedModel: 'exporting-onnx',
  registerFineTunedModel: 'registering',
};

export interface LiveProgress {
  stage: string;
  /** The activity's state: scheduled (e.g. waiting for a training worker), started. */
  state: string;
  attempt: number;
  epoch?: number;
  epochs?: number;
  loss?: number | null;
  history?: { epoch: number; loss: number }[];
  lastFailure?: string;
}

/** The running job's current activity and, while training, its last heartbeat; null when nothing runs. */
export async function liveProgress(client: Client, tenantId: string, jobId: string): Promise<LiveProgress | null> {
  const d = await client.workflow.getHandle(fineTuneWorkflowId(tenantId, jobId)).describe();
  const pending = d.raw.pendingActivities?.[0];
  const type = pending?.activityType?.name;
  if (!pending || !type) return null;
  const out: LiveProgress = {
    stage: STAGES[type] ?? type,
    state: stateName(pending.state),
    attempt: pending.attempt ?? 1,
  };
  const payload = pending.heartbeatDetails?.payloads?.[0];
  // The training activity's heartbeat carries the epochs; the others' only say they are alive.
  const p = payload ? defaultPayloadConverter.fromPayload<Partial<TrainingProgress>>(payload) : null;
  if (p && typeof p.epoch === 'number') Object.assign(out, { epoch: p.epoch, epochs: p.epochs, loss: p.loss ?? null, history: p.history ?? [] });
  if (pending.lastFailure?.message) out.lastFailure = pending.lastFailure.message;
  return out;
}

function stateName(state: unknown): string {
  return ({ 1: 'scheduled', 2: 'started', 3: 'cancel_requested', 4: 'paused', 5: 'pause_requested' } as Record<number, string>)[Number(state)] ?? 'unknown';
}
