// Batch activities: thin over domain/batches, each with its own EntityManager fork.
import { Context } from '@temporalio/activity';
import type { Orm } from '../db/orm';
import { finishBatch, processChunk, type ChunkResult } from '../domain/batches/batches';

export function createBatchActivities(orm: Orm) {
  return {
    async processBatchChunk(input: { tenantId: string; batchId: string; from: number; to: number }): Promise<ChunkResult> {
      // A chunk is one transaction; the heartbeat says the worker is alive while it runs, so a
      // killed worker's chunk is handed to another worker after the heartbeat timeout.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        ctx.heartbeat();
        const result = await processChunk(orm.em.fork(), input.tenantId, input.batchId, input.from, input.to);
        ctx.log.info('batch chunk', { batchId: input.batchId, from: input.from, to: input.to, ...result, ...result.timings });
        return result;
      } finally {
        clearInterval(beat);
      }
    },
    async finishBatch(input: { tenantId: string; batchId: string; status: 'completed' | 'failed' }): Promise<void> {
      await finishBatch(orm.em.fork(), input.tenantId, input.batchId, input.status);
    },
  };
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
