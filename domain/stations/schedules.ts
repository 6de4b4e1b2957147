// The domain's side of the per-tenant SHADE schedules: which tenants have which time zone, the
// local days a backfill covers, and keeping a tenant's schedule in step with its time zone.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { sql } from '../../db/sql';
import { ensureShadeSchedule, SHADE_RUN_AT } from '../../temporal/shade-schedules';
import { addDays, localMidnight } from './local-day';

/** Every tenant with its organization's time zone (UTC without an organization). */
export async function shadeTenants(em: EntityManager): Promise<{ tenantId: string; timeZone: string }[]> {
  const rows = await sql(em, `select t.id, coalesce(o.time_zone, 'UTC') as time_zone from tenants t left join organizations o on o.tenant_id = t.id order by t.id`);
  return rows.map((r) => ({ tenantId: r.id as string, timeZone: r.time_zone as string }));
}

/**
 * The schedule slots whose runs analyse the local days `from`…`to` (inclusive): each day's slot is
 * the next day's run time, so the window runs from the slot of `from` to just after that of `to`.
 */
export function backfillSlots(from: string, to: string, timeZone: string): { start: Date; end: Date } {
  const slot = (day: string) => localMidnight(addDays(day, 1), timeZone) + (SHADE_RUN_AT.hour * 60 + SHADE_RUN_AT.minute) * 60_000;
  return { start: new Date(slot(from) - 1_000), end: new Date(slot(to) + 1_000) };
}

/**
 * After a time-zone change (PUT /v1/organization): the tenant's schedule follows at once. Best
 * effort: the change is stored either way, and the worker's schedule keeper catches up within its
 * interval if Temporal cannot be reached now.
 */
export async function followTimeZone(client: Client, taskQueue: string, tenantId: string, timeZone: string, log?: { warn(obj: object, msg: string): void }): Promise<void> {
  try {
    await ensureShadeSchedule(client, taskQueue, tenantId, timeZone);
  } catch (err) {
    log?.warn({ err: (err as Error).message, tenantId }, 'SHADE schedule not updated to the new time zone (the worker catches up)');
  }
}
