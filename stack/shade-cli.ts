// `npm run cli -- shade-backfill <tenant id> <from YYYY-MM-DD> [<to YYYY-MM-DD>]`: SHADE over past
// local days through the tenant's schedule's backfill (the runs show in the Temporal UI under the
// schedule, one after another). Days are in the organization's time zone; `to` defaults to `from`.
import { connectClient } from '../temporal/connection';
import { backfillShade, ensureShadeSchedule } from '../temporal/shade-schedules';
import { backfillSlots } from '../domain/stations/schedules';
import { organizationTimeZone } from '../domain/stations/shade-run';
import { config } from '../config';
import type { Orm } from '../db/orm';
import { knownTenant } from './cli-common';
import { isUuid } from '../domain/ids';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const SHADE_BACKFILL_USAGE = 'usage: npm run cli -- shade-backfill <tenant id> <from YYYY-MM-DD> [<to YYYY-MM-DD>]';

export async function shadeBackfill(orm: Orm, temporalAddress: string, args: string[]): Promise<number> {
  const [tenantId, from, to = from] = args;
  if (args.length < 2 || args.length > 3 || !isUuid(tenantId ?? '') || !DAY.test(from) || !DAY.test(to) || to < from || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) {
    console.error(SHADE_BACKFILL_USAGE);
    return 2;
  }
  const em = orm.em.fork();
  if (!(await knownTenant(em, tenantId))) return 1;
  const timeZone = await organizationTimeZone(em, tenantId);
  const client = await connectClient(temporalAddress, config.temporalNamespace);
  try {
    await ensureShadeSchedule(client, config.taskQueue, tenantId, timeZone);
    const slots = backfillSlots(from, to, timeZone);
    await backfillShade(client, tenantId, slots);
    console.log(`SHADE backfill of ${from} … ${to} (${timeZone}) requested for tenant ${tenantId}: schedule shade/${tenantId}, slots ${slots.start.toISOString()} … ${slots.end.toISOString()}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
