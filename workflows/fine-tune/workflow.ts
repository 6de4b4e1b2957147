// One workflow per fine-tuning job: export the tenant's sessions to tensors (TypeScript) → train,
// evaluate and export ONNX on the Python training worker (its own task queue; training heartbeats
// every epoch and resumes from its checkpoint when a worker dies) → register the tenant's model and
// promote it when it does not regress the base evaluation by more than the margin. Cancelling the
// workflow cancels the running activity and marks the job cancelled.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import type { FineTuneActivities, FineTuneInput, RegisteredModel, TrainingActivities } from './contract';
import { FINE_TUNE_FAILURE } from './contract';
import { rootMessage } from '../failures';

const NON_RETRYABLE = Object.values(FINE_TUNE_FAILURE);
const RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE };

const ts = proxyActivities<FineTuneActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: RETRY,
});

export async function fineTuneWorkflow(input: FineTuneInput): Promise<RegisteredModel> {
  const { tenantId, jobId, settings } = input;
  // Training is long and CPU-bound: no overall timeout beyond a day, but a worker that stops
  // heartbeating (killed) loses its attempt after the heartbeat timeout and the retry resumes.
  const py = proxyActivities<TrainingActivities>({
    taskQueue: settings.trainingTaskQueue,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: settings.heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: RETRY,
  });
  let stage = 'exporting';
  try {
    setCurrentDetails('Exporting the tenant\'s sessions to tensors');
    await ts.startFineTuneJob({ tenantId, jobId });
    const data = await ts.exportFineTuneData(input);
    stage = 'training';
    setCurrentDetails(`Training on ${data.sessions.train} sessions (${input.trainingConfig.epochs} epochs; progress in the training activity's heartbeat)`);
    const training = await py.trainFineTune({ jobId, data, config: input.trainingConfig });
    stage = 'evaluating';
    setCurrentDetails('Evaluating on the held-out split and the base evaluation set');
    const evaluation = await py.evaluateFineTune({ jobId, data, baseEvalSessions: settings.baseEvalSessions });
    stage = 'exporting-onnx';
    setCurrentDetails('Exporting ONNX');
    await py.exportFineTunedModel({ jobId, tenantId, name: input.name, baseModelId: input.baseModelId, data, config: input.trainingConfig, training, evaluation });
    stage = 'registering';
    setCurrentDetails('Registering the model');
    const registered = await ts.registerFineTunedModel({ tenantId, jobId, data, training, evaluation, promotionMargin: settings.promotionMargin });
    setCurrentDetails(`Completed: ${registered.modelId}${registered.promoted ? ' (active)' : ' (not promoted)'}`);
    return registered;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => ts.finishFineTuneJob({ tenantId, jobId, status: 'cancelled', errorMessage: null, stage }));
      throw err;
    }
    const message = rootMessage(err);
    await ts.finishFineTuneJob({ tenantId, jobId, status: 'failed', errorMessage: message, stage });
    throw ApplicationFailure.nonRetryable(`fine-tuning job ${jobId} failed: ${message}`, 'FineTuneFailed');
  }
}
