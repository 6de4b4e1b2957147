import { Migration } from '@mikro-orm/migrations';

export class Migration20261124214521 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "batches" ("id" uuid not null, "tenant_id" uuid not null, "status" varchar(16) not null default 'pending', "total_sessions" int not null, "total_readings" int not null, "processed_sessions" int not null default 0, "failed_sessions" int not null default 0, "idempotency_key" varchar(200) null, "request_hash" varchar(64) not null, "created_at" timestamptz not null, "completed_at" timestamptz null, constraint "batches_pkey" primary key ("id"));`);
    this.addSql(`alter table "batches" add constraint "batches_tenant_id_idempotency_key_unique" unique ("tenant_id", "idempotency_key");`);

    this.addSql(`create table "batch_items" ("batch_id" uuid not null, "idx" int not null, "tenant_id" uuid not null, "session_id" varchar(200) not null, "payload" jsonb null, "state" varchar(16) not null default 'pending', "message" text null, "session_db_id" uuid null, "processed_at" timestamptz null, constraint "batch_items_pkey" primary key ("batch_id", "idx"));`);

    this.addSql(`alter table "batches" add constraint "batches_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "batch_items" add constraint "batch_items_batch_id_foreign" foreign key ("batch_id") references "batches" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "batch_items" add constraint "batch_items_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "batch_items" drop constraint "batch_items_batch_id_foreign";`);

    this.addSql(`drop table if exists "batches" cascade;`);

    this.addSql(`drop table if exists "batch_items" cascade;`);
  }

}
