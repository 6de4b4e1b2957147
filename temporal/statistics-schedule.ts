// The Temporal Schedule of the data-quality workflow: one for the whole service (the workflow fans
// out over tenants; see workflows/data-quality/contract.ts), created on worker start. Creating it
// again is harmless: an existing schedule is updated to this spec and task queue.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { DATA_QUALITY_SCHEDULE_ID, DATA_QUALITY_WORKFLOW_ID, type DataQualityInput } from '../workflows/data-quality/contract';
import { dataQualityWorkflow } from '../workflows/data-quality/workflow';

/** How often the snapshots are refreshed (`EVNI_DATA_QUALITY_EVERY_MINUTES`, default 60). */
export function dataQualityIntervalMinutes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.EVNI_DATA_QUALITY_EVERY_MINUTES ?? 60);
  return Number.isFinite(v) && v >= 1 ? v : 60;
}

export async function ensureDataQualitySchedule(client: Client, taskQueue: string, everyMinutes = dataQualityIntervalMinutes()): Promise<void> {
  const spec = { intervals: [{ every: everyMinutes * 60_000 }] };
  const action = { type: 'startWorkflow' as const, workflowType: dataQualityWorkflow, workflowId: DATA_QUALITY_WORKFLOW_ID, taskQueue, args: [{}] as [DataQualityInput] };
  // A run still going when the next is due: skip the next (the running one is as fresh).
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000 };
  const options: ScheduleOptions = { scheduleId: DATA_QUALITY_SCHEDULE_ID, spec, action, policies };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(DATA_QUALITY_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
  }
}
