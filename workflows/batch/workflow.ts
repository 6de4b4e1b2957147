// One workflow per batch: chunks of staged sessions processed by activities with bounded
// parallelism. The input carries ids and counts only; sessions stay in PostgreSQL.
import { ApplicationFailure, continueAsNew, proxyActivities, setCurrentDetails, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { BatchActivities, BatchInput } from './contract';
import { rootMessage } from '../failures';
import { inLanes } from '../lanes';

const chunkOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
};
const acts = proxyActivities<BatchActivities>(chunkOptions);

/** Keeps each run's history small whatever the batch size (a few events per chunk). */
const CHUNKS_PER_RUN = 500;

export async function batchWorkflow(input: BatchInput): Promise<void> {
  const chunks = Math.ceil(input.totalSessions / input.chunkSize);
  const firstChunk = input.nextChunk ?? 0;
  let done = firstChunk;
  const report = () => setCurrentDetails(`${done} of ${chunks} chunks done (${input.chunkSize} sessions each)`);
  report();

  // Once a chunk has failed for good, the other lanes finish their chunk but start no new one.
  let next: number;
  try {
    next = await inLanes(
      {
        from: firstChunk,
        to: Math.min(chunks, firstChunk + (input.chunksPerRun ?? CHUNKS_PER_RUN)),
        lanes: input.parallelism,
        stop: () => workflowInfo().continueAsNewSuggested,
      },
      async (c) => {
        const from = c * input.chunkSize;
        const to = Math.min(input.totalSessions, from + input.chunkSize);
        await acts.processBatchChunk.executeWithOptions({ ...chunkOptions, summary: `sessions ${from}–${to - 1}` }, [
          { tenantId: input.tenantId, batchId: input.batchId, from, to },
        ]);
        done++;
        report();
      },
    );
  } catch (err) {
    await acts.finishBatch({ tenantId: input.tenantId, batchId: input.batchId, status: 'failed' });
    throw ApplicationFailure.nonRetryable(`batch ${input.batchId} failed: ${rootMessage(err)}`);
  }
  if (next < chunks) await continueAsNew<typeof batchWorkflow>({ ...input, nextChunk: next });
  await acts.finishBatch({ tenantId: input.tenantId, batchId: input.batchId, status: 'completed' });
}
