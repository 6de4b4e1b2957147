// The outbox dispatcher: fans every stored event out into one delivery per subscribed, enabled
// endpoint (or the one endpoint a test event names) and starts each delivery's workflow, whose id
// is the delivery's. It wakes on every commit that writes events (LISTEN/NOTIFY) and polls besides,
// so nothing depends on the notification arriving. Several dispatchers (one per worker) share the
// work: rows are claimed with SKIP LOCKED, and a delivery is fanned out once per (event, endpoint)
// (a unique key). A crash between fan-out and start leaves `workflow_started_at` null: the next
// round starts it, and starting a delivery's workflow twice is harmless.
import { Client as PgClient } from 'pg';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Orm } from '../../db/orm';
import { sql } from '../../db/sql';
import { startWebhookDelivery } from '../../temporal/webhooks';
import type { DeliveryPolicy } from '../../workflows/webhook-delivery/contract';
import { OUTBOX_CHANNEL } from './events';

const EVENTS_PER_ROUND = 500;
const STARTS_PER_ROUND = 200;
const PARALLEL_STARTS = 32;

export interface DispatcherOptions {
  orm: Orm;
  temporal: Client;
  taskQueue: string;
  policy: DeliveryPolicy;
  pollMs: number;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** One round: fan out pending events, then start deliveries not started yet. Returns how much it did. */
export async function dispatchOnce(opts: Pick<DispatcherOptions, 'orm' | 'temporal' | 'taskQueue' | 'policy'>): Promise<{ events: number; started: number }> {
  const em = opts.orm.em.fork();
  const events = await em.transactional(async (tem) => {
    const [r] = await sql(
      tem,
      `with ev as (
         select id, tenant_id, type, endpoint from webhook_events where dispatched_at is null order by created_at limit ? for update skip locked
       ), ins as (
         insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, status, attempt_count, created_at)
         select gen_random_uuid(), ev.tenant_id, ep.id, ev.id, ev.type, 'pending', 0, clock_timestamp()
           from ev join webhook_endpoints ep on ep.tenant_id = ev.tenant_id
          where case when ev.endpoint is not null then ep.id = ev.endpoint else ep.enabled and jsonb_exists(ep.events, ev.type) end
         on conflict (event_id, endpoint_id) do nothing returning 1
       ), upd as (
         update webhook_events w set dispatched_at = now() from ev where w.id = ev.id returning 1
       )
       select (select count(*) from upd)::int as events, (select count(*) from ins)::int as deliveries`,
      [EVENTS_PER_ROUND],
    );
    return r.events as number;
  });
  const started = await em.transactional(async (tem) => {
    const rows = await sql(
      tem,
      `select id, tenant_id, endpoint_id, event_type from webhook_deliveries where workflow_started_at is null order by created_at limit ? for update skip locked`,
      [STARTS_PER_ROUND],
    );
    const done: string[] = [];
    for (let i = 0; i < rows.length; i += PARALLEL_STARTS) {
      const slice = rows.slice(i, i + PARALLEL_STARTS);
      const results = await Promise.allSettled(
        slice.map((r) =>
          startWebhookDelivery(opts.temporal, opts.taskQueue, { tenantId: r.tenant_id, deliveryId: r.id, endpointId: r.endpoint_id, eventType: r.event_type, ...opts.policy }),
        ),
      );
      results.forEach((res, k) => res.status === 'fulfilled' && done.push(slice[k].id as string));
      const failed = results.find((res) => res.status === 'rejected');
      if (failed) {
        if (done.length) await sql(tem, `update webhook_deliveries set workflow_started_at = now() where id = any(?::uuid[])`, [`{${done.join(',')}}`]);
        throw (failed as PromiseRejectedResult).reason;
      }
    }
    if (done.length) await sql(tem, `update webhook_deliveries set workflow_started_at = now() where id = any(?::uuid[])`, [`{${done.join(',')}}`]);
    return done.length;
  });
  return { events, started };
}

export interface RunningDispatcher {
  /** Runs a round now (tests, and callers that just wrote events). */
  kick(): void;
  stop(): Promise<void>;
}

/** Runs the dispatcher until stopped: a round on every NOTIFY and every `pollMs`, more rounds while there is work. */
export async function startWebhookDispatcher(opts: DispatcherOptions): Promise<RunningDispatcher> {
  let stopped = false;
  let wanted = false;
  let running: Promise<void> | null = null;
  let lastError = 0;
  const loop = async () => {
    while (wanted && !stopped) {
      wanted = false;
      try {
        const { events, started } = await dispatchOnce(opts);
        if (events >= EVENTS_PER_ROUND || started >= STARTS_PER_ROUND) wanted = true;
      } catch (err) {
        // Temporal or PostgreSQL away: the rows wait, the next round retries (one warning per 10 s).
        if (Date.now() - lastError > 10_000) opts.log?.warn({ err: (err as Error).message }, 'webhook dispatch round failed');
        lastError = Date.now();
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const kick = () => {
    wanted = true;
    running ??= loop().finally(() => {
      running = null;
      if (wanted && !stopped) kick();
    });
  };

  const clientUrl = opts.orm.config.get('clientUrl') as string;
  let listener: PgClient | null = null;
  const listen = async () => {
    const pg = new PgClient({ connectionString: clientUrl });
    pg.on('notification', kick);
    pg.on('error', () => {
      listener = null;
      pg.end().catch(() => undefined);
    });
    await pg.connect();
    await pg.query(`listen ${OUTBOX_CHANNEL}`);
    listener = pg;
  };
  await listen().catch((err) => opts.log?.warn({ err: (err as Error).message }, 'webhook dispatcher: LISTEN failed; polling only'));
  const timer = setInterval(() => {
    if (!listener && !stopped) listen().catch(() => undefined);
    kick();
  }, opts.pollMs);
  kick();
  return {
    kick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await listener?.end().catch(() => undefined);
    },
  };
}
