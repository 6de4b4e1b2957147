// The Temporal Schedule of the data-quality workflow: one for the whole service (the workflow fans
// out over tenants; see workflows/data-quality/contract.ts), created on worker start. Creating it
// again is harmless: an existing schedule is updated to this spec and task queue.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { createOrGet, updateTo } from './schedules';
import { DATA_QUALITY_SCHEDULE_ID, DATA_QUALITY_WORKFLOW_ID, type DataQualityInput } from '../workflows/data-quality/contract';
import { dataQualityWorkflow } from '../workflows/data-quality/workflow';

/** `everyMinutes`: how often the snapshots are refreshed (`config.dataQualityEveryMinutes`). */
export async function ensureDataQualitySchedule(client: Client, taskQueue: string, everyMinutes: number): Promise<void> {
  const spec = { intervals: [{ every: everyMinutes * 60_000 }] };
  const action = { type: 'startWorkflow' as const, workflowType: dataQualityWorkflow, workflowId: DATA_QUALITY_WORKFLOW_ID, taskQueue, args: [{}] as [DataQualityInput] };
  // A run still going when the next is due: skip the next (the running one is as fresh).
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000 };
  const options: ScheduleOptions = { scheduleId: DATA_QUALITY_SCHEDULE_ID, spec, action, policies };
  const made = await createOrGet(client, options);
  if (!made.created) await updateTo(made.handle, options);
}
