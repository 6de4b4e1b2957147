import { Migration } from '@mikro-orm/migrations';

const STANDING = `i.status <> 'FALSE_POSITIVE' and i.resolved_by is distinct from 'detector'`;
const ACTIVE = `i.status in ('OPEN', 'IN_PROGRESS')`;

/**
 * The statistics' per-session view of the anomalies (`statistics_anomalous_sessions`): one row per
 * session with a standing anomaly, holding what `GET /v1/statistics` would otherwise de-duplicate
 * and join from a million sessions on every request — the first and last instants of its standing
 * and of its active anomalies, when its `KWH_DECREASE` occurred, its delivered and unbilled energy,
 * and the interval its connector was down (from its first blocking anomaly until the next session
 * there starts). Triggers keep it: on `anomaly_issues` (the session's row is recomputed from its
 * issues) and on `charging_sessions` (energy, and the down intervals that a session arriving,
 * leaving or moving shortens or lengthens on its connector).
 *
 * Recomputing reads other rows (the session's issues, its connector's next session), so two
 * writers must not each compute from a snapshot without the other's change: both triggers first
 * take a transaction advisory lock per connector (sorted, so they cannot deadlock among
 * themselves), and the recompute runs as a later statement, whose snapshot then holds every
 * earlier holder's commit (READ COMMITTED).
 */
export class Migration20261209100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "statistics_anomalous_sessions" (
      "session_id" uuid not null, "tenant_id" uuid not null, "station_id" uuid not null, "connector_id" varchar(100) null,
      "first_at" timestamptz not null, "last_at" timestamptz not null,
      "first_active_at" timestamptz null, "last_active_at" timestamptz null, "leak_at" timestamptz null,
      "delivered_kwh" double precision not null, "unbilled_kwh" double precision not null,
      "down_from" timestamptz null, "down_until" timestamptz null,
      constraint "statistics_anomalous_sessions_pkey" primary key ("session_id"));`);
    this.addSql(`alter table "statistics_anomalous_sessions" add constraint "statistics_anomalous_sessions_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "statistics_anomalous_sessions" add constraint "statistics_anomalous_sessions_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);
    // Sessions with a standing / an active anomaly first occurring in a period, with their energy
    // (index only); the sessions whose anomalies straddle a period's start (few: one probe each).
    this.addSql(`create index "statistics_anomalous_sessions_first_index" on "statistics_anomalous_sessions" ("tenant_id", "first_at");`);
    this.addSql(`create index "statistics_anomalous_sessions_first_active_index" on "statistics_anomalous_sessions" ("tenant_id", "first_active_at") include ("delivered_kwh") where "first_active_at" is not null;`);
    this.addSql(`create index "statistics_anomalous_sessions_leak_index" on "statistics_anomalous_sessions" ("tenant_id", "leak_at") include ("unbilled_kwh") where "leak_at" is not null;`);
    this.addSql(`create index "statistics_anomalous_sessions_straddle_index" on "statistics_anomalous_sessions" ("tenant_id", "last_at") include ("first_at") where "last_at" > "first_at";`);
    this.addSql(`create index "statistics_anomalous_sessions_straddle_active_index" on "statistics_anomalous_sessions" ("tenant_id", "last_active_at") include ("first_active_at", "delivered_kwh") where "last_active_at" > "first_active_at";`);
    // Uptime: down intervals by start, those still holding at an instant, and by connector (upkeep).
    this.addSql(`create index "statistics_anomalous_sessions_down_index" on "statistics_anomalous_sessions" ("tenant_id", "down_from") include ("down_until") where "down_from" is not null;`);
    this.addSql(`create index "statistics_anomalous_sessions_down_until_index" on "statistics_anomalous_sessions" ("tenant_id", "down_until") include ("down_from") where "down_from" is not null;`);
    this.addSql(`create index "statistics_anomalous_sessions_place_index" on "statistics_anomalous_sessions" ("tenant_id", "station_id", "connector_id", "down_from") include ("down_until") where "down_from" is not null;`);

    // The advisory lock of each place (tenant, station, connector; '' for a session without one), in order.
    this.addSql(`create function "statistics_lock_places"(places text[]) returns void language plpgsql as $$
      declare p text;
      begin
        for p in select distinct x from unnest(places) x order by 1 loop
          perform pg_advisory_xact_lock(hashtextextended('statistics:' || p, 0));
        end loop;
      end $$;`);
    // Recomputes these sessions' rows from their issues and the sessions (a row goes when the session
    // has no standing anomaly left, or is gone).
    this.addSql(`create function "statistics_anomalous_sessions_refresh"(ids uuid[]) returns void language plpgsql as $$
      begin
        -- Joins with unnest, not "= any(ids)": a batch's thousands of ids would be searched linearly per row.
        delete from statistics_anomalous_sessions a using unnest(ids) u(id) where a.session_id = u.id
           and (not exists (select 1 from anomaly_issues i where i.session_id = a.session_id and ${STANDING})
                or not exists (select 1 from charging_sessions s where s.id = a.session_id));
        insert into statistics_anomalous_sessions (session_id, tenant_id, station_id, connector_id, first_at, last_at, first_active_at, last_active_at,
                                                   leak_at, delivered_kwh, unbilled_kwh, down_from, down_until)
        select s.id, s.tenant_id, s.station_id, s.connector_id, g.first_at, g.last_at, g.first_active_at, g.last_active_at, g.leak_at,
               coalesce(s.delivered_kwh, 0), coalesce(s.unbilled_kwh, 0), d.down_from,
               case when d.down_from is not null then
                 (select min(n.occurrence_at) from charging_sessions n
                   where n.tenant_id = s.tenant_id and n.station_id = s.station_id and n.connector_id = s.connector_id and n.occurrence_at > d.down_from) end
          from (select i.session_id, min(i.occurred_at) as first_at, max(i.occurred_at) as last_at,
                       min(i.occurred_at) filter (where ${ACTIVE}) as first_active_at, max(i.occurred_at) filter (where ${ACTIVE}) as last_active_at,
                       min(i.occurred_at) filter (where i.category = 'KWH_DECREASE') as leak_at,
                       min(i.occurred_at) filter (where i.category in ('ZERO_SESSION', 'CHARGING_EXPECTED')) as blocked_at
                  from unnest(ids) u(id) join anomaly_issues i on i.session_id = u.id where ${STANDING} group by i.session_id) g
          join charging_sessions s on s.id = g.session_id
          cross join lateral (select case when s.connector_id is not null then g.blocked_at end as down_from) d
        on conflict (session_id) do update set
          tenant_id = excluded.tenant_id, station_id = excluded.station_id, connector_id = excluded.connector_id,
          first_at = excluded.first_at, last_at = excluded.last_at, first_active_at = excluded.first_active_at, last_active_at = excluded.last_active_at,
          leak_at = excluded.leak_at, delivered_kwh = excluded.delivered_kwh, unbilled_kwh = excluded.unbilled_kwh,
          down_from = excluded.down_from, down_until = excluded.down_until;
      end $$;`);
    // Issues: the sessions whose standing set, activity, categories or instants changed.
    this.addSql(`create function "statistics_anomalous_sessions_issues_upkeep"() returns trigger language plpgsql as $$
      declare ids uuid[];
      begin
        if tg_op = 'INSERT' then
          select array_agg(distinct n.session_id) into ids from new_rows n;
        elsif tg_op = 'DELETE' then
          select array_agg(distinct o.session_id) into ids from old_rows o;
        else
          select array_agg(distinct x.session_id) into ids from (
            select n.session_id from new_rows n join old_rows o on o.id = n.id
             where (n.status, n.resolved_by, n.category, n.occurred_at, n.session_id) is distinct from (o.status, o.resolved_by, o.category, o.occurred_at, o.session_id)
            union all
            select o.session_id from new_rows n join old_rows o on o.id = n.id where n.session_id <> o.session_id) x;
        end if;
        if ids is null then return null; end if;
        perform statistics_lock_places(array(
          select s.tenant_id::text || '/' || s.station_id::text || '/' || coalesce(s.connector_id, '') from unnest(ids) u(id) join charging_sessions s on s.id = u.id));
        perform statistics_anomalous_sessions_refresh(ids);
        return null;
      end $$;`);
    this.addSql(`create trigger "statistics_anomalous_sessions_issues_insert" after insert on "anomaly_issues" referencing new table as new_rows for each statement execute function "statistics_anomalous_sessions_issues_upkeep"();`);
    this.addSql(`create trigger "statistics_anomalous_sessions_issues_update" after update on "anomaly_issues" referencing old table as old_rows new table as new_rows for each statement execute function "statistics_anomalous_sessions_issues_upkeep"();`);
    this.addSql(`create trigger "statistics_anomalous_sessions_issues_delete" after delete on "anomaly_issues" referencing old table as old_rows for each statement execute function "statistics_anomalous_sessions_issues_upkeep"();`);

    // Sessions: a session starting inside a down interval of its connector ends it there; one that
    // ended an interval and leaves (deleted, moved, started elsewhere in time) hands the end to the
    // next session; a session whose energy or place changed carries them into its own row.
    this.addSql(`create function "statistics_anomalous_sessions_sessions_upkeep"() returns trigger language plpgsql as $$
      declare
        ids uuid[]; t uuid[]; st uuid[]; cn text[]; ats timestamptz[]; arr boolean[]; sid uuid[];
      begin
        -- The changes as arrays (a temporary table would cost catalogue writes on every session write):
        -- where a session now is (arrived) and, for a delete or a move, where it was.
        if tg_op = 'INSERT' then
          select array_agg(n.tenant_id), array_agg(n.station_id), array_agg(n.connector_id), array_agg(n.occurrence_at), array_agg(true), array_agg(n.id)
            into t, st, cn, ats, arr, sid from new_rows n;
        elsif tg_op = 'DELETE' then
          select array_agg(o.tenant_id), array_agg(o.station_id), array_agg(o.connector_id), array_agg(o.occurrence_at), array_agg(false), array_agg(o.id)
            into t, st, cn, ats, arr, sid from old_rows o;
        else
          select array_agg(x.tenant_id), array_agg(x.station_id), array_agg(x.connector_id), array_agg(x.at), array_agg(x.arrived), array_agg(x.id)
            into t, st, cn, ats, arr, sid from (
              select n.tenant_id, n.station_id, n.connector_id, n.occurrence_at as at, true as arrived, n.id
                from new_rows n join old_rows o on o.id = n.id
               where (o.station_id, o.connector_id, o.occurrence_at, o.delivered_kwh, o.unbilled_kwh) is distinct from (n.station_id, n.connector_id, n.occurrence_at, n.delivered_kwh, n.unbilled_kwh)
              union all
              select o.tenant_id, o.station_id, o.connector_id, o.occurrence_at, false, o.id
                from old_rows o join new_rows n on n.id = o.id
               where (o.station_id, o.connector_id, o.occurrence_at) is distinct from (n.station_id, n.connector_id, n.occurrence_at)) x;
        end if;
        if sid is null then return null; end if;
        perform statistics_lock_places(array(select c.tenant_id::text || '/' || c.station_id::text || '/' || coalesce(c.connector_id, '')
                                               from unnest(t, st, cn) as c(tenant_id, station_id, connector_id)));
        select array_agg(distinct x.session_id) into ids from (
          -- the changed sessions' own rows (energy, place, interval)
          select a.session_id from unnest(sid) c(session_id) join statistics_anomalous_sessions a on a.session_id = c.session_id
          union all
          -- intervals on a connector that a session arriving there now ends earlier
          select a.session_id from unnest(t, st, cn, ats, arr) c(tenant_id, station_id, connector_id, at, arrived)
            join statistics_anomalous_sessions a
              on a.tenant_id = c.tenant_id and a.station_id = c.station_id and a.connector_id = c.connector_id and a.down_from is not null
             and a.down_from < c.at and (a.down_until is null or a.down_until > c.at)
           where c.arrived
          union all
          -- intervals that a session leaving the connector (or its instant) ended
          select a.session_id from unnest(t, st, cn, ats, arr) c(tenant_id, station_id, connector_id, at, arrived)
            join statistics_anomalous_sessions a
              on a.tenant_id = c.tenant_id and a.station_id = c.station_id and a.connector_id = c.connector_id and a.down_from is not null
             and a.down_from < c.at and a.down_until = c.at
           where not c.arrived) x;
        if ids is not null then perform statistics_anomalous_sessions_refresh(ids); end if;
        return null;
      end $$;`);
    this.addSql(`create trigger "statistics_anomalous_sessions_sessions_insert" after insert on "charging_sessions" referencing new table as new_rows for each statement execute function "statistics_anomalous_sessions_sessions_upkeep"();`);
    this.addSql(`create trigger "statistics_anomalous_sessions_sessions_update" after update on "charging_sessions" referencing old table as old_rows new table as new_rows for each statement execute function "statistics_anomalous_sessions_sessions_upkeep"();`);
    this.addSql(`create trigger "statistics_anomalous_sessions_sessions_delete" after delete on "charging_sessions" referencing old table as old_rows for each statement execute function "statistics_anomalous_sessions_sessions_upkeep"();`);

    // The sessions with standing anomalies that exist already.
    this.addSql(`select statistics_anomalous_sessions_refresh(array(select distinct i.session_id from anomaly_issues i where ${STANDING}));`);
  }

  override async down(): Promise<void> {
    for (const op of ['insert', 'update', 'delete']) {
      this.addSql(`drop trigger if exists "statistics_anomalous_sessions_issues_${op}" on "anomaly_issues";`);
      this.addSql(`drop trigger if exists "statistics_anomalous_sessions_sessions_${op}" on "charging_sessions";`);
    }
    this.addSql(`drop function if exists "statistics_anomalous_sessions_issues_upkeep"();`);
    this.addSql(`drop function if exists "statistics_anomalous_sessions_sessions_upkeep"();`);
    this.addSql(`drop function if exists "statistics_anomalous_sessions_refresh"(uuid[]);`);
    this.addSql(`drop function if exists "statistics_lock_places"(text[]);`);
    this.addSql(`drop table if exists "statistics_anomalous_sessions" cascade;`);
  }
}
