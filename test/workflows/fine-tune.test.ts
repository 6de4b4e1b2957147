// The fine-tuning workflow (workflows/fine-tune/workflow.ts) with MOCKED activities, in the Temporal
// samples' style: the run's dev server, a worker of our own on its own task queue running the real
// workflow bundle and both workers' activities (the Python ones mocked in TypeScript; the input's
// `trainingTaskQueue` points at our queue). Jobs start the way the API starts them: `startFineTune`.
// RECORD_HISTORIES=1 also writes test/histories/fine-tune-workflow.json (see replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { startFineTune } from '../../temporal/fine-tune';
import { workflowBundle } from '../../worker/worker';
import { FINE_TUNE_FAILURE, fineTuneWorkflowId, type ExportedData, type FineTuneActivities, type FineTuneInput, type TrainingActivities, type TrainingProgress } from '../../workflows/fine-tune/contract';
import type { fineTuneWorkflow } from '../../workflows/fine-tune/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

const TENANT = `wf-test-tenant-${process.pid}`;
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'fine-tune-workflow.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const scores = (score: number) => ({ sessions: 10, bucketMacroF1: score / 2, sessionMacroF1: score / 2, score, cleanReconstructionError: 0.01 });

function mockActivities(opts: { exportFails?: boolean; trainForever?: boolean; failFirstAttemptAfterEpoch?: number; epochs?: number } = {}) {
  const calls: string[] = [];
  const finishes: { status: string; errorMessage: string | null; stage?: string }[] = [];
  const trainAttempts: { attempt: number; resumedFrom: number }[] = [];
  let exported: ExportedData | undefined;
  const ts: FineTuneActivities = {
    async startFineTuneJob() {
      calls.push('startFineTuneJob');
    },
    async exportFineTuneData(input) {
      calls.push('exportFineTuneData');
      if (opts.exportFails) throw ApplicationFailure.nonRetryable('too little data: 3 analysed session(s) match the data source; fine-tuning needs at least 20', FINE_TUNE_FAILURE.invalidData);
      exported = {
        workDir: `/tmp/${input.jobId}`, trainDir: 't', heldOutDir: 'h', baseEvalDir: 'b', startOnnx: 's.onnx', referenceOnnx: 'r.onnx', baseArtifactsDir: 'a',
        modelDir: `/models/${input.tenantId}/model-ft-${input.jobId}`, modelId: `model-ft-${input.jobId}`, modelVersion: '2.0.0-ft.x', featureVersion: 'f',
        sessions: { total: 30, train: 24, heldOut: 6, clean: 29, skipped: 0 }, buckets: { train: 100, heldOut: 20 }, labels: { confirmed: 0, falsePositives: 1, fromVerdicts: 0 },
      };
      return exported;
    },
    async registerFineTunedModel(input) {
      calls.push('registerFineTunedModel');
      assert.deepEqual(input.data, exported, 'registration gets the export');
      const regression = input.evaluation.baseEvaluation.base.score - input.evaluation.baseEvaluation.fineTuned.score;
      return { modelId: input.data.modelId, promoted: regression <= input.promotionMargin, regression };
    },
    async finishFineTuneJob(input) {
      calls.push('finishFineTuneJob');
      finishes.push({ status: input.status, errorMessage: input.errorMessage, stage: input.stage });
    },
  };
  const py: TrainingActivities = {
    async trainFineTune(input) {
      calls.push('trainFineTune');
      assert.deepEqual(input.data, exported, 'training gets the export');
      const ctx = Context.current();
      const last = ctx.info.heartbeatDetails as TrainingProgress | undefined;
      const from = last?.epoch ?? 0;
      trainAttempts.push({ attempt: ctx.info.attempt, resumedFrom: from });
      const history = [...(last?.history ?? [])];
      const epochs = input.config.epochs;
      for (let ep = from; ep < epochs || opts.trainForever; ep++) {
        await Promise.race([sleep(20), ctx.cancelled]);
        history.push({ epoch: ep + 1, loss: 1 / (ep + 2) });
        const progress: TrainingProgress = { epoch: ep + 1, epochs, loss: 1 / (ep + 2), history, checkpoint: `${input.data.workDir}/checkpoint.pt` };
        ctx.heartbeat(progress);
        if (ctx.info.attempt === 1 && ep + 1 === opts.failFirstAttemptAfterEpoch) {
          // Keep beating past the SDK's throttle (80 % of the heartbeat timeout) so that this
          // progress reaches the server, then die as a killed worker's attempt would.
          for (let i = 0; i < 10; i++) {
            await sleep(200);
            ctx.heartbeat(progress);
          }
          throw new Error('worker lost');
        }
      }
      return { epochs, finalLoss: history[history.length - 1].loss, history, resumedFromEpoch: from, attempt: ctx.info.attempt, seconds: 0.1 };
    },
    async evaluateFineTune() {
      calls.push('evaluateFineTune');
      return { heldOut: { base: scores(0.5), fineTuned: scores(0.7) }, baseEvaluation: { base: scores(1.6), fineTuned: scores(1.59), corpus: { seed: 'csar-val-1', sessions: 40 } } };
    },
    async exportFineTunedModel() {
      calls.push('exportFineTunedModel');
      return { files: ['csar-c-2.onnx'] };
    },
  };
  return { activities: { ...ts, ...py }, calls, finishes, trainAttempts };
}

async function run(taskQueue: string, epochs = 4) {
  const jobId = `job-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const input: FineTuneInput = {
    tenantId: TENANT,
    jobId,
    baseModelId: 'model-csar-c2-base',
    name: 'wf test',
    trainingConfig: { epochs, learningRate: 0.0003, batchBuckets: 24000, weightDecay: 0.0001, reconstructionWeight: 1, heldOutFraction: 0.2, seed: 7 },
    dataSource: { type: 'sessions', sessionFilter: null },
    settings: { trainingTaskQueue: taskQueue, heartbeatTimeoutMs: 2_000, promotionMargin: 0.02, baseEvalSessions: 40, minSessions: 20, maxSessions: 20000 },
  };
  await startFineTune(stack().env.client, taskQueue, input);
  return { input, handle: stack().env.client.workflow.getHandle<typeof fineTuneWorkflow>(fineTuneWorkflowId(TENANT, jobId)) };
}

describe('fine-tune workflow with mocked activities', function () {
  this.timeout(60_000);

  it('exports, trains (a failed attempt resumes from its last heartbeat), evaluates, exports ONNX and registers, in order; RECORD_HISTORIES=1 commits the history', async () => {
    const mock = mockActivities({ failFirstAttemptAfterEpoch: 2 });
    await withMockedWorker('fine-tune', mock.activities, async (tq) => {
      const { input, handle } = await run(tq, 4);
      const result = await handle.result();
      assert.deepEqual(result, { modelId: `model-ft-${input.jobId}`, promoted: true, regression: result.regression });
      assert.ok(Math.abs(result.regression - 0.01) < 1e-9);
      assert.deepEqual(mock.calls, ['startFineTuneJob', 'exportFineTuneData', 'trainFineTune', 'trainFineTune', 'evaluateFineTune', 'exportFineTunedModel', 'registerFineTunedModel']);
      assert.deepEqual(mock.trainAttempts, [{ attempt: 1, resumedFrom: 0 }, { attempt: 2, resumedFrom: 2 }], 'the retry starts after the epoch of the last heartbeat');
      assert.deepEqual(mock.finishes, []);

      const json = historyToJSON(await handle.fetchHistory());
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it('bad data fails the job at once: finishFineTuneJob(failed, the reason), nothing trained', async () => {
    const mock = mockActivities({ exportFails: true });
    await withMockedWorker('fine-tune', mock.activities, async (tq) => {
      const { input, handle } = await run(tq);
      const err = await handle.result().then(() => assert.fail('should fail'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
      assert.match(err.cause.message, new RegExp(`fine-tuning job ${input.jobId} failed: too little data`));
      assert.deepEqual(mock.calls, ['startFineTuneJob', 'exportFineTuneData', 'finishFineTuneJob']);
      assert.deepEqual([mock.finishes[0].status, mock.finishes[0].stage], ['failed', 'exporting']);
      assert.match(mock.finishes[0].errorMessage!, /^too little data: 3 analysed/);
    });
  });

  it('cancelling the workflow cancels the training and marks the job cancelled', async () => {
    const mock = mockActivities({ trainForever: true });
    await withMockedWorker('fine-tune', mock.activities, async (tq) => {
      const { handle } = await run(tq);
      await waitFor('the training activity to start', async () => (mock.calls.includes('trainFineTune') ? true : undefined), 30_000, 50);
      await sleep(300);
      await handle.cancel();
      const err = await handle.result().then(() => assert.fail('should be cancelled'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
      assert.deepEqual(mock.finishes, [{ status: 'cancelled', errorMessage: null, stage: 'training' }]);
      assert.ok(!mock.calls.includes('evaluateFineTune') && !mock.calls.includes('registerFineTunedModel'));
    });
  });
});
