// The scheduled data-quality run: every tenant's data-quality snapshot (and the sweep that keeps
// session energy current), in chunks of tenants, a few chunks at a time. A failed tenant does not stop
// the others; the run fails at the end naming them, so the schedule's next run tries again.
import { ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { DataQualityInput, DataQualityResult, StatisticsActivities } from './contract';
import { chunked, inLanes } from '../lanes';

const acts = proxyActivities<StatisticsActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds' },
});

export async function dataQualityWorkflow(input: DataQualityInput = {}): Promise<DataQualityResult> {
  // Workflow time: deterministic on replay, and one instant for every tenant of the run.
  const at = new Date().toISOString();
  const tenants = await acts.listStatisticsTenants();
  const parallelism = Math.max(1, Math.min(input.parallelism ?? 2, 16));
  const size = Math.max(1, Math.min(input.chunkSize ?? 25, 500));
  const chunks = chunked(tenants, size);
  let energyFilled = 0;
  const failed: string[] = [];
  // Chunk failures are caught below; only a cancellation fails a lane, and the run with it.
  await inLanes({ to: chunks.length, lanes: parallelism, stopOnFailure: false }, async (i) => {
    try {
      // Awaited first: `x += await …` would read x before the await and lose the other lane's sums.
      const done = await acts.refreshTenantsStatistics({ tenantIds: chunks[i], at });
      energyFilled += done.energyFilled;
      failed.push(...done.failed);
    } catch (err) {
      if (isCancellation(err)) throw err;
      failed.push(...chunks[i]);
    }
  });
  if (failed.length > 0) throw ApplicationFailure.nonRetryable(`Data quality failed for ${failed.length} of ${tenants.length} tenants: ${failed.join(', ')}`, 'DataQualityFailed');
  return { at, tenants: tenants.length, energyFilled };
}
