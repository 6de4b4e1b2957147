// Creating a Temporal Schedule idempotently: both kinds of schedule (SHADE per tenant, data quality
// for the service) are created on worker start and again later, and an existing one is brought to
// the options of the code that runs now.
import { ScheduleAlreadyRunning, type Client, type ScheduleHandle, type ScheduleOptions } from '@temporalio/client';

/** Creates the schedule; when it exists already, returns its handle (the caller decides whether to update). */
export async function createOrGet(client: Client, options: ScheduleOptions): Promise<{ created: true } | { created: false; handle: ScheduleHandle }> {
  try {
    await client.schedule.create(options);
    return { created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    return { created: false, handle: client.schedule.getHandle(options.scheduleId) };
  }
}

/** Brings an existing schedule to these options' spec, action and policies (other settings kept). */
export async function updateTo(handle: ScheduleHandle, options: ScheduleOptions): Promise<void> {
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
}
