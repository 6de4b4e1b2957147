import { Migration } from '@mikro-orm/migrations';

/**
 * The anomaly workspace: one issue per (session, category), opened when an analysis first finds
 * the category on the session, and the history of every change to an issue (by a member or by the
 * detector). Besides the shared contract's columns, an issue carries copies of its session's
 * station, connector and EVSE and the time the anomaly occurred in the readings (`occurred_at`),
 * kept current by every analysis of the session, so that the workspace's filters, sorts and
 * aggregations read one table through its indexes instead of joining a million sessions.
 */
export class Migration20261208100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "anomaly_issues" ("id" uuid not null, "tenant_id" uuid not null, "session_id" uuid not null, "category" varchar(40) not null,
      "status" varchar(16) not null, "resolved_by" varchar(16) null, "assignee_member_id" uuid null,
      "max_score" double precision not null, "first_detected_at" timestamptz not null, "last_detected_at" timestamptz not null,
      "station_id" uuid not null, "connector_id" varchar(100) null, "evse_id" varchar(200) null,
      "occurred_at" timestamptz not null, "occurred_until" timestamptz not null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "anomaly_issues_pkey" primary key ("id"));`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_session_id_category_unique" unique ("session_id", "category");`);
    // The list's two orders (newest occurrence first; by score). They include every filtered column,
    // so that a page deep into a filtered list is found by an index-only scan (ids first, rows
    // for the page only) instead of a heap visit per skipped row; with session_id, the session
    // aggregation of a period groups from the first one alone.
    const filtered = `"category", "status", "station_id", "connector_id", "evse_id", "assignee_member_id", "updated_at"`;
    this.addSql(`create index "anomaly_issues_tenant_occurred_index" on "anomaly_issues" ("tenant_id", "occurred_at" desc, "id" desc) include (${filtered}, "max_score", "session_id");`);
    this.addSql(`create index "anomaly_issues_tenant_score_index" on "anomaly_issues" ("tenant_id", "max_score", "id") include (${filtered}, "occurred_at");`);
    this.addSql(`create index "anomaly_issues_tenant_updated_index" on "anomaly_issues" ("tenant_id", "updated_at");`);
    // Station / connector filters, the connector aggregation, and the recurrence and incident look-ups.
    this.addSql(`create index "anomaly_issues_station_category_occurred_index" on "anomaly_issues" ("tenant_id", "station_id", "category", "occurred_at");`);
    this.addSql(`create index "anomaly_issues_tenant_connector_index" on "anomaly_issues" ("tenant_id", "connector_id");`);
    this.addSql(`create index "anomaly_issues_tenant_evse_index" on "anomaly_issues" ("tenant_id", "evse_id");`);
    this.addSql(`create index "anomaly_issues_tenant_category_occurred_index" on "anomaly_issues" ("tenant_id", "category", "occurred_at" desc, "id" desc);`);
    this.addSql(`create index "anomaly_issues_assignee_index" on "anomaly_issues" ("tenant_id", "assignee_member_id", "occurred_at" desc, "id" desc) where "assignee_member_id" is not null;`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_station_id_foreign" foreign key ("station_id") references "charging_stations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_assignee_member_id_foreign" foreign key ("assignee_member_id") references "members" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_status_check" check ("status" in ('OPEN', 'IN_PROGRESS', 'RESOLVED', 'FALSE_POSITIVE'));`);
    this.addSql(`alter table "anomaly_issues" add constraint "anomaly_issues_resolved_by_check" check (("status" = 'RESOLVED') = ("resolved_by" is not null) and ("resolved_by" is null or "resolved_by" in ('member', 'detector')));`);

    // The connector aggregation groups by (station, connector) reading this index only.
    this.addSql(`create index "anomaly_issues_tenant_station_connector_index" on "anomaly_issues" ("tenant_id", "station_id", "connector_id");`);

    // Rollup of a session's issues for the unfiltered session aggregation (sorted by score or count
    // over every anomalous session of the tenant): kept by the writers of anomaly_issues.
    this.addSql(`create table "anomaly_session_rollups" ("session_id" uuid not null, "tenant_id" uuid not null, "issue_count" int not null,
      "max_score" double precision not null, "first_occurred_at" timestamptz not null, "last_update_at" timestamptz not null, "categories" text[] not null,
      constraint "anomaly_session_rollups_pkey" primary key ("session_id"));`);
    this.addSql(`create index "anomaly_session_rollups_score_index" on "anomaly_session_rollups" ("tenant_id", "max_score", "issue_count", "session_id");`);
    this.addSql(`create index "anomaly_session_rollups_count_index" on "anomaly_session_rollups" ("tenant_id", "issue_count", "max_score", "session_id");`);
    this.addSql(`alter table "anomaly_session_rollups" add constraint "anomaly_session_rollups_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_session_rollups" add constraint "anomaly_session_rollups_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "anomaly_issue_events" ("id" uuid not null, "tenant_id" uuid not null, "issue_id" uuid not null,
      "actor" varchar(16) not null, "actor_member_id" uuid null, "actor_email" varchar(320) null,
      "field" varchar(16) not null, "from_value" text null, "to_value" text null, "at" timestamptz not null,
      constraint "anomaly_issue_events_pkey" primary key ("id"));`);
    this.addSql(`create index "anomaly_issue_events_issue_id_at_index" on "anomaly_issue_events" ("issue_id", "at");`);
    this.addSql(`alter table "anomaly_issue_events" add constraint "anomaly_issue_events_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_issue_events" add constraint "anomaly_issue_events_issue_id_foreign" foreign key ("issue_id") references "anomaly_issues" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "anomaly_issue_events" add constraint "anomaly_issue_events_actor_member_id_foreign" foreign key ("actor_member_id") references "members" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "anomaly_session_rollups" cascade;`);
    this.addSql(`drop table if exists "anomaly_issue_events" cascade;`);
    this.addSql(`drop table if exists "anomaly_issues" cascade;`);
  }
}
