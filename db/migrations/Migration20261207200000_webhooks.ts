import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks: endpoints (secrets encrypted at rest), the outbox of events (written in the
 * transaction of the verdict or batch that caused them), one delivery per (event, endpoint) and
 * every HTTP attempt of a delivery. Deleting an endpoint deletes its deliveries and attempts.
 */
export class Migration20261207200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "webhook_endpoints" ("id" uuid not null, "tenant_id" uuid not null, "url" text not null, "events" jsonb not null,
      "description" text null, "enabled" boolean not null, "failure_count" int not null default 0, "failing_since" timestamptz null,
      "disabled_at" timestamptz null, "secret_enc" text not null, "previous_secret_enc" text null, "previous_secret_expires_at" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "webhook_endpoints_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_endpoints_tenant_id_created_at_index" on "webhook_endpoints" ("tenant_id", "created_at");`);
    this.addSql(`alter table "webhook_endpoints" add constraint "webhook_endpoints_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "webhook_events" ("id" uuid not null, "tenant_id" uuid not null, "type" varchar(64) not null, "payload" text not null,
      "endpoint" uuid null, "created_at" timestamptz not null, "dispatched_at" timestamptz null, constraint "webhook_events_pkey" primary key ("id"));`);
    // The dispatcher's queue: events not fanned out yet, oldest first.
    this.addSql(`create index "webhook_events_undispatched_index" on "webhook_events" ("created_at") where "dispatched_at" is null;`);
    this.addSql(`alter table "webhook_events" add constraint "webhook_events_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "webhook_deliveries" ("id" uuid not null, "tenant_id" uuid not null, "endpoint_id" uuid not null, "event_id" uuid not null,
      "event_type" varchar(64) not null, "status" varchar(16) not null, "http_status" int null, "attempt_count" int not null default 0,
      "created_at" timestamptz not null, "completed_at" timestamptz null, "workflow_started_at" timestamptz null,
      constraint "webhook_deliveries_pkey" primary key ("id"));`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_event_id_endpoint_id_unique" unique ("event_id", "endpoint_id");`);
    this.addSql(`create index "webhook_deliveries_endpoint_id_created_at_index" on "webhook_deliveries" ("endpoint_id", "created_at");`);
    // The dispatcher's second queue: deliveries whose workflow is not started yet.
    this.addSql(`create index "webhook_deliveries_unstarted_index" on "webhook_deliveries" ("created_at") where "workflow_started_at" is null;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_event_id_foreign" foreign key ("event_id") references "webhook_events" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "webhook_attempts" ("id" uuid not null, "tenant_id" uuid not null, "delivery_id" uuid not null, "attempt" int not null,
      "started_at" timestamptz not null, "duration_ms" int null, "http_status" int null, "response" text null, "error" text null,
      constraint "webhook_attempts_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_attempts_delivery_id_attempt_index" on "webhook_attempts" ("delivery_id", "attempt");`);
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_delivery_id_foreign" foreign key ("delivery_id") references "webhook_deliveries" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_attempts" cascade;`);
    this.addSql(`drop table if exists "webhook_deliveries" cascade;`);
    this.addSql(`drop table if exists "webhook_events" cascade;`);
    this.addSql(`drop table if exists "webhook_endpoints" cascade;`);
  }
}
