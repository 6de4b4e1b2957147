import { Migration } from '@mikro-orm/migrations';

/**
 * Stations and SHADE (issue 17): the rollups the station endpoints and SHADE read instead of a
 * year of raw readings, and SHADE's stored results.
 * - `station_session_energy`: one row per analysed session, its energy per minute from the register
 *   and from the reported power (Wh, `real[]` from `start_minute`: float4 is ample for a minute's
 *   energy and reads back about twice as fast as float8), so that a re-analysis can take its
 *   previous contribution out again (replace/append).
 * - `station_hourly_energy`: energy per (station, connector, UTC hour), kept by adding each
 *   session's new contribution and subtracting its old one.
 * - `station_inferences`: one SHADE result per (station, local day, model version); a re-run
 *   replaces the row (its id stays).
 */
export class Migration20261208110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "station_session_energy" (
      "session_id" uuid not null primary key references "charging_sessions" ("id") on delete cascade,
      "tenant_id" uuid not null references "tenants" ("id") on delete cascade,
      "station_id" uuid not null references "charging_stations" ("id") on delete cascade,
      "connector_id" varchar(100) not null,
      "start_minute" timestamptz not null,
      "end_minute" timestamptz not null,
      "energy_wh" real[] not null,
      "power_wh" real[] not null
    );`);
    this.addSql(`create index "station_session_energy_station_start_idx" on "station_session_energy" ("station_id", "start_minute");`);
    this.addSql(`create table "station_hourly_energy" (
      "tenant_id" uuid not null references "tenants" ("id") on delete cascade,
      "station_id" uuid not null references "charging_stations" ("id") on delete cascade,
      "connector_id" varchar(100) not null,
      "hour" timestamptz not null,
      "energy_wh" float8 not null default 0,
      "power_wh" float8 not null default 0,
      "session_starts" int not null default 0,
      primary key ("station_id", "hour", "connector_id")
    );`);
    this.addSql(`create table "station_inferences" (
      "id" uuid not null primary key,
      "tenant_id" uuid not null references "tenants" ("id") on delete cascade,
      "station_id" uuid not null references "charging_stations" ("id") on delete cascade,
      "day" date not null,
      "model_version" varchar(100) not null,
      "is_anomaly" boolean not null,
      "anomaly_score" float8 not null,
      "day_score" float8 not null,
      "detection_details" jsonb not null,
      "markers" jsonb not null,
      "analyzed_at" timestamptz not null,
      "day_start" timestamptz not null,
      "minutes" int not null,
      constraint "station_inferences_station_day_model_unique" unique ("station_id", "day", "model_version")
    );`);
    this.addSql(`create index "station_inferences_station_latest_idx" on "station_inferences" ("station_id", "day" desc, "analyzed_at" desc);`);
    this.addSql(`create index "station_inferences_tenant_day_idx" on "station_inferences" ("tenant_id", "day");`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "station_inferences";');
    this.addSql('drop table if exists "station_hourly_energy";');
    this.addSql('drop table if exists "station_session_energy";');
  }
}
