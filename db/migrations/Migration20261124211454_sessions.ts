import { Migration } from '@mikro-orm/migrations';

export class Migration20261124211454 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "charging_stations" ("id" uuid not null, "tenant_id" uuid not null, "station_id" varchar(200) not null, "created_at" timestamptz not null, constraint "charging_stations_pkey" primary key ("id"));`);
    this.addSql(`alter table "charging_stations" add constraint "charging_stations_tenant_id_station_id_unique" unique ("tenant_id", "station_id");`);

    this.addSql(`create table "connectors" ("id" uuid not null, "tenant_id" uuid not null, "station_id" uuid not null, "connector_id" varchar(100) not null, "evse_id" varchar(200) null, "created_at" timestamptz not null, constraint "connectors_pkey" primary key ("id"));`);
    this.addSql(`alter table "connectors" add constraint "connectors_station_id_connector_id_unique" unique ("station_id", "connector_id");`);

    this.addSql(`create table "charging_sessions" ("id" uuid not null, "tenant_id" uuid not null, "session_id" varchar(200) not null, "station_id" uuid not null, "connector_id" varchar(100) null, "evse_id" varchar(200) null, "metadata" jsonb null, "client_status" varchar(16) null, "stop_reason" varchar(100) null, "status" varchar(16) not null default 'pending', "message" text null, "is_anomaly" boolean null, "anomaly_score" double precision null, "anomaly_confidence" double precision null, "anomaly_count" int not null default 0, "is_incident" boolean null, "is_recurring" boolean null, "soc_reconstructed" boolean not null default false, "analyzed_at" timestamptz null, "reading_count" int not null default 0, "next_seq" int not null default 0, "started_at" timestamptz null, "ended_at" timestamptz null, "quality" jsonb null, "analysis_window" jsonb null, "detector" varchar(50) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "charging_sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "charging_sessions_tenant_id_created_at_index" on "charging_sessions" ("tenant_id", "created_at");`);
    this.addSql(`create index "charging_sessions_tenant_id_station_id_index" on "charging_sessions" ("tenant_id", "station_id");`);
    this.addSql(`alter table "charging_sessions" add constraint "charging_sessions_tenant_id_session_id_unique" unique ("tenant_id", "session_id");`);

    this.addSql(`create table "session_writes" ("id" uuid not null, "tenant_id" uuid not null, "session_id" uuid not null, "kind" varchar(16) not null, "payload" jsonb null, "reading_count" int not null, "created_at" timestamptz not null, "applied_at" timestamptz null, constraint "session_writes_pkey" primary key ("id"));`);
    this.addSql(`create index "session_writes_session_id_created_at_index" on "session_writes" ("session_id", "created_at");`);

    this.addSql(`create table "session_anomalies" ("id" uuid not null, "tenant_id" uuid not null, "session_id" uuid not null, "category" varchar(40) not null, "score" double precision not null, "confidence" double precision not null, "start_unit" int not null, "end_unit" int not null, "start_timestamp" timestamptz not null, "end_timestamp" timestamptz not null, constraint "session_anomalies_pkey" primary key ("id"));`);
    this.addSql(`create index "session_anomalies_session_id_index" on "session_anomalies" ("session_id");`);
    this.addSql(`create index "session_anomalies_tenant_id_category_index" on "session_anomalies" ("tenant_id", "category");`);

    this.addSql(`create table "meter_values" ("id" bigserial primary key, "tenant_id" uuid not null, "session_id" uuid not null, "seq" int not null, "timestamp" timestamptz not null, "value" double precision not null, "measurand" varchar(64) null, "unit" varchar(16) null, "phase" varchar(8) null, "location" varchar(16) null, "context" varchar(32) null, "format" varchar(16) null, "multiplier" smallint null, "reconstructed" boolean not null default false);`);
    this.addSql(`alter table "meter_values" add constraint "meter_values_session_id_seq_unique" unique ("session_id", "seq");`);

    this.addSql(`alter table "charging_stations" add constraint "charging_stations_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "connectors" add constraint "connectors_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "connectors" add constraint "connectors_station_id_foreign" foreign key ("station_id") references "charging_stations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "charging_sessions" add constraint "charging_sessions_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "charging_sessions" add constraint "charging_sessions_station_id_foreign" foreign key ("station_id") references "charging_stations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "session_writes" add constraint "session_writes_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "session_writes" add constraint "session_writes_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "session_anomalies" add constraint "session_anomalies_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "session_anomalies" add constraint "session_anomalies_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "meter_values" add constraint "meter_values_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "meter_values" add constraint "meter_values_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "connectors" drop constraint "connectors_station_id_foreign";`);

    this.addSql(`alter table "charging_sessions" drop constraint "charging_sessions_station_id_foreign";`);

    this.addSql(`alter table "session_writes" drop constraint "session_writes_session_id_foreign";`);

    this.addSql(`alter table "session_anomalies" drop constraint "session_anomalies_session_id_foreign";`);

    this.addSql(`alter table "meter_values" drop constraint "meter_values_session_id_foreign";`);

    this.addSql(`drop table if exists "charging_stations" cascade;`);

    this.addSql(`drop table if exists "connectors" cascade;`);

    this.addSql(`drop table if exists "charging_sessions" cascade;`);

    this.addSql(`drop table if exists "session_writes" cascade;`);

    this.addSql(`drop table if exists "session_anomalies" cascade;`);

    this.addSql(`drop table if exists "meter_values" cascade;`);
  }

}
