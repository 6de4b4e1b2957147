import { Migration } from '@mikro-orm/migrations';

/**
 * The per-day session deltas (Migration20261208105000) spelled a session's day out as
 * `coalesce(started_at, created_at)` seven times; the stored, generated `occurrence_at` is that
 * expression, and the trigger's transition tables carry it. Same rows, one definition.
 */
export class Migration20261210100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function "statistics_session_days_upkeep"() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select n.tenant_id, (n.occurrence_at at time zone 'UTC')::date, count(*), count(*) filter (where n.is_anomaly), coalesce(sum(n.delivered_kwh), 0)
              from new_rows n where exists (select 1 from tenants t where t.id = n.tenant_id) group by 1, 2;
        elsif tg_op = 'DELETE' then
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select o.tenant_id, (o.occurrence_at at time zone 'UTC')::date, -count(*), -count(*) filter (where o.is_anomaly), -coalesce(sum(o.delivered_kwh), 0)
              from old_rows o where exists (select 1 from tenants t where t.id = o.tenant_id) group by 1, 2;
        else
          -- Only rows whose day, verdict or energy changed count (most updates change none of them).
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select d.tenant_id, d.day, sum(d.n), sum(d.a), sum(d.k) from (
              select n.tenant_id, (n.occurrence_at at time zone 'UTC')::date as day, 1 as n, case when n.is_anomaly then 1 else 0 end as a, coalesce(n.delivered_kwh, 0) as k
                from new_rows n join old_rows o on o.id = n.id
               where (n.occurrence_at, n.is_anomaly, n.delivered_kwh, n.tenant_id) is distinct from (o.occurrence_at, o.is_anomaly, o.delivered_kwh, o.tenant_id)
              union all
              select o.tenant_id, (o.occurrence_at at time zone 'UTC')::date, -1, case when o.is_anomaly then -1 else 0 end, -coalesce(o.delivered_kwh, 0)
                from old_rows o join new_rows n on n.id = o.id
               where (n.occurrence_at, n.is_anomaly, n.delivered_kwh, n.tenant_id) is distinct from (o.occurrence_at, o.is_anomaly, o.delivered_kwh, o.tenant_id)
            ) d where exists (select 1 from tenants t where t.id = d.tenant_id)
            group by d.tenant_id, d.day having sum(d.n) <> 0 or sum(d.a) <> 0 or sum(d.k) <> 0;
        end if;
        return null;
      end $$;`);
  }

  override async down(): Promise<void> {
    // Nothing to restore: the earlier body computes the same rows, and rolling back
    // Migration20261208105000 drops the function with its triggers.
  }
}
