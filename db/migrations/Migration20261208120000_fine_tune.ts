import { Migration } from '@mikro-orm/migrations';

/**
 * Fine-tuning: one row per job (its request, status, last progress, metrics, result), the tenant's
 * active model (at most one per tenant; none = the base models), and on `ml_models` the card of a
 * tenant's fine-tuned model and the job that made it.
 */
export class Migration20261208120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "fine_tune_jobs" ("id" uuid not null, "tenant_id" uuid not null, "base_model_id" varchar(100) not null,
      "name" varchar(128) not null, "training_config" jsonb not null, "data_source" jsonb not null, "status" varchar(16) not null,
      "progress" jsonb null, "metrics" jsonb null, "result_model_id" varchar(100) null, "error_message" text null, "session_count" int not null,
      "created_at" timestamptz not null, "started_at" timestamptz null, "completed_at" timestamptz null, "updated_at" timestamptz not null,
      constraint "fine_tune_jobs_pkey" primary key ("id"));`);
    this.addSql(`create index "fine_tune_jobs_tenant_id_created_at_index" on "fine_tune_jobs" ("tenant_id", "created_at");`);
    this.addSql(`alter table "fine_tune_jobs" add constraint "fine_tune_jobs_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "ml_models" add column "card" jsonb null, add column "fine_tune_job_id" uuid null;`);
    this.addSql(`create index "ml_models_tenant_id_index" on "ml_models" ("tenant_id");`);

    // The model that analyses a tenant's sessions; no row: the base models.
    this.addSql(`create table "tenant_active_models" ("tenant_id" uuid not null, "model_id" varchar(100) not null,
      "promoted_at" timestamptz not null, "promoted_by" varchar(16) not null, constraint "tenant_active_models_pkey" primary key ("tenant_id"));`);
    this.addSql(`alter table "tenant_active_models" add constraint "tenant_active_models_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tenant_active_models" add constraint "tenant_active_models_model_id_foreign" foreign key ("model_id") references "ml_models" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "tenant_active_models" cascade;`);
    this.addSql(`alter table "ml_models" drop column if exists "card", drop column if exists "fine_tune_job_id";`);
    this.addSql(`drop table if exists "fine_tune_jobs" cascade;`);
  }
}
