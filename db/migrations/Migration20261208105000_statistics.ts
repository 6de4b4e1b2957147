import { Migration } from '@mikro-orm/migrations';

/**
 * Statistics (`GET /v1/statistics`): each session's delivered and unbilled energy (filled from its
 * readings after each analysis, `domain/statistics/energy.ts`; `energy_analyzed_at` is the analysis
 * they belong to, so a sweep finds sessions whose figures are missing or stale), the indexes the
 * statistics read through, and the stored data-quality snapshots of the scheduled workflow.
 */
export class Migration20261208105000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "charging_sessions" add column "delivered_kwh" double precision null, add column "unbilled_kwh" double precision null, add column "energy_analyzed_at" timestamptz null;`);
    // A session's occurrence (its first reading, or its creation without readings: what the session
    // list's date filters read) as a stored column, so that the statistics' indexes on it answer
    // from the index alone (PostgreSQL cannot scan an expression index index-only).
    this.addSql(`alter table "charging_sessions" add column "occurrence_at" timestamptz generated always as (coalesce("started_at", "created_at")) stored;`);
    // Sessions of a period (the partial days at a period's ends; whole days come from the rollup below).
    this.addSql(`create index "charging_sessions_tenant_occurrence_index" on "charging_sessions" ("tenant_id", "occurrence_at") include ("delivered_kwh", "is_anomaly");`);
    // Uptime: a connector's last session before a time, and its next session after one.
    this.addSql(`create index "charging_sessions_connector_occurrence_index" on "charging_sessions" ("tenant_id", "station_id", "connector_id", "occurrence_at") include ("id");`);
    // The anomalies the statistics count ("standing": not a false positive, not withdrawn by a later
    // analysis), by occurrence, and by place for the distinct connectors and stations.
    this.addSql(`create index "anomaly_issues_statistics_occurred_index" on "anomaly_issues" ("tenant_id", "occurred_at") include ("status", "category", "session_id", "station_id", "connector_id") where "status" <> 'FALSE_POSITIVE' and "resolved_by" is distinct from 'detector';`);
    this.addSql(`create index "anomaly_issues_statistics_place_index" on "anomaly_issues" ("tenant_id", "station_id", "connector_id", "occurred_at") where "status" <> 'FALSE_POSITIVE' and "resolved_by" is distinct from 'detector';`);
    // Uptime: the standing anomalies that block a connector, by time and by connector.
    const blocking = `"status" <> 'FALSE_POSITIVE' and "resolved_by" is distinct from 'detector' and "category" in ('ZERO_SESSION', 'CHARGING_EXPECTED')`;
    this.addSql(`create index "anomaly_issues_statistics_blocking_index" on "anomaly_issues" ("tenant_id", "occurred_at") include ("station_id", "connector_id") where ${blocking};`);
    this.addSql(`create index "anomaly_issues_statistics_blocking_place_index" on "anomaly_issues" ("tenant_id", "station_id", "connector_id", "occurred_at") where ${blocking};`);
    // The energy sweep's work list: analysed sessions whose energy figures are missing or stale.
    this.addSql(`create index "charging_sessions_energy_stale_index" on "charging_sessions" ("tenant_id") where "status" = 'active' and "energy_analyzed_at" is distinct from "analyzed_at";`);
    // Sessions per UTC day of occurrence (count, anomalous, delivered kWh), kept by triggers as
    // append-only deltas: a write never waits on another's rollup row (batch lanes, session actors),
    // the scheduled data-quality run folds each tenant's deltas into one row per day, and the
    // statistics read a year as a few hundred rows. A tenant's deletion cascades to its sessions and
    // to these rows; the sessions' trigger then writes nothing for it (it skips missing tenants).
    this.addSql(`create table "statistics_session_days" ("id" bigint generated always as identity primary key, "tenant_id" uuid not null, "day" date not null, "sessions" bigint not null, "anomalous" bigint not null, "delivered_kwh" double precision not null);`);
    this.addSql(`alter table "statistics_session_days" add constraint "statistics_session_days_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`create index "statistics_session_days_tenant_day_index" on "statistics_session_days" ("tenant_id", "day") include ("sessions", "anomalous", "delivered_kwh");`);
    this.addSql(`create function "statistics_session_days_upkeep"() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select n.tenant_id, (coalesce(n.started_at, n.created_at) at time zone 'UTC')::date, count(*), count(*) filter (where n.is_anomaly), coalesce(sum(n.delivered_kwh), 0)
              from new_rows n where exists (select 1 from tenants t where t.id = n.tenant_id) group by 1, 2;
        elsif tg_op = 'DELETE' then
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select o.tenant_id, (coalesce(o.started_at, o.created_at) at time zone 'UTC')::date, -count(*), -count(*) filter (where o.is_anomaly), -coalesce(sum(o.delivered_kwh), 0)
              from old_rows o where exists (select 1 from tenants t where t.id = o.tenant_id) group by 1, 2;
        else
          -- Only rows whose day, verdict or energy changed count (most updates change none of them).
          insert into statistics_session_days (tenant_id, day, sessions, anomalous, delivered_kwh)
            select d.tenant_id, d.day, sum(d.n), sum(d.a), sum(d.k) from (
              select n.tenant_id, (coalesce(n.started_at, n.created_at) at time zone 'UTC')::date as day, 1 as n, case when n.is_anomaly then 1 else 0 end as a, coalesce(n.delivered_kwh, 0) as k
                from new_rows n join old_rows o on o.id = n.id
               where (coalesce(n.started_at, n.created_at), n.is_anomaly, n.delivered_kwh, n.tenant_id) is distinct from (coalesce(o.started_at, o.created_at), o.is_anomaly, o.delivered_kwh, o.tenant_id)
              union all
              select o.tenant_id, (coalesce(o.started_at, o.created_at) at time zone 'UTC')::date, -1, case when o.is_anomaly then -1 else 0 end, -coalesce(o.delivered_kwh, 0)
                from old_rows o join new_rows n on n.id = o.id
               where (coalesce(n.started_at, n.created_at), n.is_anomaly, n.delivered_kwh, n.tenant_id) is distinct from (coalesce(o.started_at, o.created_at), o.is_anomaly, o.delivered_kwh, o.tenant_id)
            ) d where exists (select 1 from tenants t where t.id = d.tenant_id)
            group by d.tenant_id, d.day having sum(d.n) <> 0 or sum(d.a) <> 0 or sum(d.k) <> 0;
        end if;
        return null;
      end $$;`);
    this.addSql(`create trigger "statistics_session_days_insert" after insert on "charging_sessions" referencing new table as new_rows for each statement execute function "statistics_session_days_upkeep"();`);
    this.addSql(`create trigger "statistics_session_days_update" after update on "charging_sessions" referencing old table as old_rows new table as new_rows for each statement execute function "statistics_session_days_upkeep"();`);
    this.addSql(`create trigger "statistics_session_days_delete" after delete on "charging_sessions" referencing old table as old_rows for each statement execute function "statistics_session_days_upkeep"();`);
    // Sessions that exist already.
    this.addSql(`insert into "statistics_session_days" (tenant_id, day, sessions, anomalous, delivered_kwh)
      select tenant_id, (coalesce(started_at, created_at) at time zone 'UTC')::date, count(*), count(*) filter (where is_anomaly), coalesce(sum(delivered_kwh), 0)
        from charging_sessions group by 1, 2;`);
    this.addSql(`create table "data_quality_snapshots" ("tenant_id" uuid not null, "generated_at" timestamptz not null, "ranges" jsonb not null, constraint "data_quality_snapshots_pkey" primary key ("tenant_id"));`);
    this.addSql(`alter table "data_quality_snapshots" add constraint "data_quality_snapshots_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "data_quality_snapshots" cascade;`);
    this.addSql(`drop trigger if exists "statistics_session_days_insert" on "charging_sessions";`);
    this.addSql(`drop trigger if exists "statistics_session_days_update" on "charging_sessions";`);
    this.addSql(`drop trigger if exists "statistics_session_days_delete" on "charging_sessions";`);
    this.addSql(`drop function if exists "statistics_session_days_upkeep"();`);
    this.addSql(`drop table if exists "statistics_session_days" cascade;`);
    this.addSql(`drop index if exists "charging_sessions_energy_stale_index";`);
    this.addSql(`drop index if exists "anomaly_issues_statistics_blocking_place_index";`);
    this.addSql(`drop index if exists "anomaly_issues_statistics_blocking_index";`);
    this.addSql(`drop index if exists "anomaly_issues_statistics_place_index";`);
    this.addSql(`drop index if exists "anomaly_issues_statistics_occurred_index";`);
    this.addSql(`drop index if exists "charging_sessions_connector_occurrence_index";`);
    this.addSql(`drop index if exists "charging_sessions_tenant_occurrence_index";`);
    this.addSql(`alter table "charging_sessions" drop column if exists "delivered_kwh", drop column if exists "unbilled_kwh", drop column if exists "energy_analyzed_at", drop column if exists "occurrence_at";`);
  }
}
