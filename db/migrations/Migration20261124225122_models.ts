import { Migration } from '@mikro-orm/migrations';

export class Migration20261124225122 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "ml_models" ("id" varchar(100) not null, "tenant_id" uuid null, "name" varchar(200) not null, "type" varchar(32) not null, "version" varchar(50) not null, "is_base" boolean not null, "base_model" varchar(100) null, "metrics" jsonb null, "status" varchar(16) not null, "created_at" timestamptz not null, "artifact_path" varchar(500) null, "description" text null, "feature_version" varchar(50) not null, constraint "ml_models_pkey" primary key ("id"));`);

    this.addSql(`alter table "ml_models" add constraint "ml_models_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "ml_models" cascade;`);
  }

}
