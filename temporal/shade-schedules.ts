// One Temporal Schedule per tenant runs SHADE for the previous local day, shortly after midnight
// in the organization's time zone. Created idempotently (on worker start for every tenant, and by
// a keeper that notices new tenants and time-zone changes); an existing schedule is brought to the
// current spec. Operators backfill history with the schedule's backfill (`npm run cli --
// shade-backfill`) and start a run at once with "Trigger" in the Temporal UI (or `triggerShade`).
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { createOrGet, updateTo } from './schedules';
import { SHADE_SEARCH_ATTRIBUTES, shadeScheduleId, type ShadeRunInput } from '../workflows/shade/contract';
import { shadeRun } from '../workflows/shade/workflow';

/** Local time of the daily run: the previous day's last sessions have mostly been analysed by then. */
export const SHADE_RUN_AT = { hour: 0, minute: 15 };
/** A run missed while Temporal or the workers were down still starts within this window. */
export const SHADE_CATCHUP_WINDOW_MS = 24 * 3_600_000;

function options(tenantId: string, timeZone: string, taskQueue: string): ScheduleOptions {
  const spec = { calendars: [{ hour: SHADE_RUN_AT.hour, minute: SHADE_RUN_AT.minute }], timezone: timeZone };
  const args = [{ tenantId } satisfies ShadeRunInput];
  // A run still going when the next is due (a long backfill): the next is skipped, not queued.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: SHADE_CATCHUP_WINDOW_MS };
  // What this code wants the schedule to be, as a digest the runs carry in their memo: a schedule
  // made by another release (another run time, policy or input) differs and is brought up to date.
  const definition = createHash('sha256').update(JSON.stringify({ spec, args, policies, taskQueue, workflow: shadeRun.name })).digest('hex').slice(0, 16);
  return {
    scheduleId: shadeScheduleId(tenantId),
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: shadeRun,
      // The schedule appends each run's scheduled time: `shade/<tenant>-2026-12-08T00:15:00Z`.
      workflowId: shadeScheduleId(tenantId),
      taskQueue,
      args,
      typedSearchAttributes: [{ key: SHADE_SEARCH_ATTRIBUTES.tenant, value: tenantId }],
      memo: { [DEFINITION]: definition },
    },
    policies,
    memo: { purpose: 'SHADE: station-level detection of the previous local day' },
  };
}

const DEFINITION = 'shadeScheduleDefinition';
const definitionOf = (action: unknown) => (action as { memo?: Record<string, unknown> }).memo?.[DEFINITION];

/** Creates the tenant's schedule, or brings an existing one to what this code defines (time zone, task queue, run time, policies). */
export async function ensureShadeSchedule(client: Client, taskQueue: string, tenantId: string, timeZone: string): Promise<'created' | 'updated' | 'unchanged'> {
  const opts = options(tenantId, timeZone, taskQueue);
  const made = await createOrGet(client, opts);
  if (made.created) return 'created';
  const current = await made.handle.describe();
  // The digest, and the two settings an operator might change by hand in the Temporal UI.
  const action = current.action as { taskQueue?: string };
  if (definitionOf(current.action) === definitionOf(opts.action) && current.spec.timezone === timeZone && action.taskQueue === taskQueue) return 'unchanged';
  await updateTo(made.handle, opts);
  return 'updated';
}

/** Runs SHADE for the previous day of the schedule's time zone now (as the UI's Trigger does). */
export async function triggerShade(client: Client, tenantId: string): Promise<void> {
  await client.schedule.getHandle(shadeScheduleId(tenantId)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}

/**
 * Backfills the schedule's slots within [start, end): it starts the runs it would have started then
 * (each analyses the local day before its slot), buffered one after another.
 */
export async function backfillShade(client: Client, tenantId: string, slots: { start: Date; end: Date }): Promise<void> {
  await client.schedule.getHandle(shadeScheduleId(tenantId)).backfill([{ start: slots.start, end: slots.end, overlap: ScheduleOverlapPolicy.BUFFER_ALL }]);
}

export async function deleteShadeSchedule(client: Client, tenantId: string): Promise<void> {
  await client.schedule
    .getHandle(shadeScheduleId(tenantId))
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
}

export interface ShadeScheduleKeeper {
  /** Resolves once the first pass (every tenant) is done. */
  ready: Promise<void>;
  /** One pass now (tests use it instead of waiting for the interval). */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps a schedule per tenant: a pass at start and every `everyMs` lists the tenants and their
 * time zones and ensures the schedule of each tenant it has not seen yet or whose time zone
 * changed (tenants are made by the CLI, the launcher and tests, time zones by PUT /v1/organization).
 */
export function startShadeScheduleKeeper(opts: {
  client: Client;
  taskQueue: string;
  tenants: () => Promise<{ tenantId: string; timeZone: string }[]>;
  everyMs: number;
  log?: { warn(obj: object, msg: string): void };
}): ShadeScheduleKeeper {
  const known = new Map<string, string>();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    for (const t of await opts.tenants()) {
      if (stopped) return;
      if (known.get(t.tenantId) === t.timeZone) continue;
      await ensureShadeSchedule(opts.client, opts.taskQueue, t.tenantId, t.timeZone);
      known.set(t.tenantId, t.timeZone);
    }
  };
  const sync = () => (running = running.then(pass, pass));
  const ready = sync();
  const timer = setInterval(() => {
    sync().catch((err: unknown) => opts.log?.warn({ err: (err as Error).message }, 'SHADE schedules: pass failed (retried at the next one)'));
  }, opts.everyMs);
  timer.unref();
  return {
    ready,
    sync,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => {});
    },
  };
}
