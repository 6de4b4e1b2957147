// The batch workflow (workflows/batch/workflow.ts) with MOCKED activities, in the Temporal samples'
// style: the test run's dev server (stack().env), a worker of our own on its own task queue running
// the real workflow bundle, activities that are plain objects recording their calls. Batches start
// the way production starts them: `startBatch`.
// RECORD_HISTORIES=1 also writes test/histories/batch-workflow.json (see replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { startBatch } from '../../temporal/batches';
import { workflowBundle } from '../../worker/worker';
import { batchWorkflowId, type BatchActivities, type BatchInput, type ChunkInput } from '../../workflows/batch/contract';
import type { batchWorkflow } from '../../workflows/batch/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';

const TENANT = `wf-test-tenant-${process.pid}`;
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'batch-workflow.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ChunkCall extends ChunkInput {
  runId: string;
  attempt: number;
}

/**
 * Mocked `BatchActivities`: chunks take `chunkMs`, `failAt` (a chunk's `from`) fails non-retryably
 * at once, and `finishBatch` takes `finishMs`.
 */
function mockActivities(opts: { chunkMs?: number; failAt?: number; finishMs?: number } = {}) {
  const chunks: ChunkCall[] = [];
  const finishes: { tenantId: string; batchId: string; status: string }[] = [];
  const state = { running: 0, maxRunning: 0, failedAt: NaN, finishedAt: NaN };
  const activities: BatchActivities = {
    async processBatchChunk(input) {
      const info = Context.current().info;
      chunks.push({ ...input, runId: info.workflowExecution?.runId ?? '', attempt: info.attempt });
      state.maxRunning = Math.max(state.maxRunning, ++state.running);
      try {
        // At once: the other lane's chunk, started with it, is still running when the workflow learns
        // of the failure (with equal durations the two raced).
        if (input.from === opts.failAt) {
          state.failedAt = performance.now();
          throw ApplicationFailure.nonRetryable(`chunk ${input.from}–${input.to - 1} cannot be processed`, 'BadChunk');
        }
        await sleep(opts.chunkMs ?? 50);
        return { processed: input.to - input.from, failed: 0, skipped: 0 };
      } finally {
        state.running--;
      }
    },
    async finishBatch(input) {
      await sleep(opts.finishMs ?? 0);
      finishes.push(input);
      state.finishedAt = performance.now();
    },
  };
  return { activities, chunks, finishes, state };
}

/** A worker of our own (own task queue, mocked activities) around `fn`. */
const withWorker = <T>(activities: BatchActivities, fn: (taskQueue: string) => Promise<T>) => withMockedWorker('batch', activities, fn);

async function runBatch(taskQueue: string, input: Omit<BatchInput, 'tenantId' | 'batchId'>) {
  const full: BatchInput = { tenantId: TENANT, batchId: `b-${Date.now()}-${taskQueue}`, ...input };
  await startBatch(stack().env.client, taskQueue, full);
  const handle = stack().env.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(full.tenantId, full.batchId));
  return { input: full, handle };
}

/** The [from, to) ranges a batch of `total` sessions in chunks of `size` consists of. */
const expectedChunks = (total: number, size: number) =>
  Array.from({ length: Math.ceil(total / size) }, (_, c) => [c * size, Math.min(total, (c + 1) * size)] as const);
const ranges = (calls: ChunkCall[]) => calls.map((c) => [c.from, c.to] as const).sort((a, b) => a[0] - b[0]);

describe('batch workflow with mocked activities', function () {
  this.timeout(60_000);

  it('processes every chunk exactly once, at most `parallelism` at a time, then finishes once as completed; RECORD_HISTORIES=1 commits the history', async () => {
    const mock = mockActivities({ chunkMs: 150 });
    await withWorker(mock.activities, async (tq) => {
      const { input, handle } = await runBatch(tq, { totalSessions: 95, chunkSize: 10, parallelism: 3 });
      await handle.result();

      assert.deepEqual(ranges(mock.chunks), expectedChunks(95, 10), 'each [from, to) once');
      for (const c of mock.chunks) assert.deepEqual([c.tenantId, c.batchId, c.attempt], [TENANT, input.batchId, 1]);
      assert.ok(mock.state.maxRunning <= 3, `${mock.state.maxRunning} chunks at once`);
      assert.ok(mock.state.maxRunning >= 2, `the lanes ran side by side (${mock.state.maxRunning} at once)`);
      assert.deepEqual(mock.finishes, [{ tenantId: TENANT, batchId: input.batchId, status: 'completed' }]);

      const json = historyToJSON(await handle.fetchHistory());
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it("a chunk that fails non-retryably fails the batch: finishBatch(…, 'failed') once, then the workflow fails", async () => {
    // The other lane's chunk ends while the batch is being marked failed: it must not start another.
    const mock = mockActivities({ chunkMs: 300, failAt: 20, finishMs: 700 });
    await withWorker(mock.activities, async (tq) => {
      const { input, handle } = await runBatch(tq, { totalSessions: 80, chunkSize: 10, parallelism: 2 });
      const err = await handle.result().then(
        () => assert.fail('the batch workflow should fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError, String(err));
      assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
      assert.equal(err.cause.nonRetryable, true);
      assert.match(err.cause.message, new RegExp(`batch ${input.batchId} failed: chunk 20–29 cannot be processed`), 'the chunk\'s own reason, not "activity task failed"');

      assert.deepEqual(mock.finishes, [{ tenantId: TENANT, batchId: input.batchId, status: 'failed' }]);
      const failing = mock.chunks.filter((c) => c.from === 20);
      assert.equal(failing.length, 1, 'a non-retryable failure is not retried');
      assert.ok(mock.state.finishedAt > mock.state.failedAt, 'finished after the failure');
      assert.ok(mock.chunks.length <= 4, `no lane starts a chunk after the failure (${mock.chunks.length} of 8 chunks started)`);
      assert.ok(new Set(mock.chunks.map((c) => c.from)).size === mock.chunks.length, 'no chunk twice');
    });
  });

  it('continues as new every `chunksPerRun` chunks and still processes every chunk once', async () => {
    const mock = mockActivities({ chunkMs: 30 });
    await withWorker(mock.activities, async (tq) => {
      const { input, handle } = await runBatch(tq, { totalSessions: 72, chunkSize: 10, parallelism: 2, chunksPerRun: 3 });
      await handle.result(); // follows the runs

      assert.deepEqual(ranges(mock.chunks), expectedChunks(72, 10), 'each [from, to) once across the runs');
      const runs = [...new Set(mock.chunks.map((c) => c.runId))];
      assert.equal(runs.length, 3, 'three runs of at most 3 chunks');
      for (const run of runs) assert.ok(mock.chunks.filter((c) => c.runId === run).length <= 3);
      assert.ok(mock.state.maxRunning <= 2);
      assert.deepEqual(mock.finishes, [{ tenantId: TENANT, batchId: input.batchId, status: 'completed' }]);

      const first = JSON.parse(historyToJSON(await stack().env.client.workflow.getHandle(handle.workflowId, runs[0]).fetchHistory())).events;
      assert.equal(first.at(-1).eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    });
  });
});
