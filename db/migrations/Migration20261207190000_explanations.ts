import { Migration } from '@mikro-orm/migrations';

/**
 * Explanations of sessions (`/explain`, `/ask`), cached per tenant and cache key (session, analysis
 * version, kind, language, style, generator[, question]), with the numbers check and token usage of
 * LLM answers; and the tokens each organization used per UTC day (its daily budget).
 */
export class Migration20261207190000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "explanations" ("id" uuid not null, "tenant_id" uuid not null, "session_id" uuid not null, "cache_key" varchar(128) not null, "kind" varchar(16) not null, "analysis_version" varchar(40) not null, "lang" varchar(16) not null, "style" varchar(16) not null, "question" text null, "generator" varchar(100) not null, "text" text not null, "numbers_check" jsonb null, "usage" jsonb null, "rounds" int not null default 0, "tool_calls" int not null default 0, "created_at" timestamptz not null, constraint "explanations_pkey" primary key ("id"));`);
    this.addSql(`alter table "explanations" add constraint "explanations_tenant_id_cache_key_unique" unique ("tenant_id", "cache_key");`);
    this.addSql(`create index "explanations_session_id_index" on "explanations" ("session_id");`);
    this.addSql(`alter table "explanations" add constraint "explanations_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "explanations" add constraint "explanations_session_id_foreign" foreign key ("session_id") references "charging_sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "llm_usage" ("tenant_id" uuid not null, "day" date not null, "input_tokens" bigint not null default 0, "output_tokens" bigint not null default 0, "cache_creation_input_tokens" bigint not null default 0, "cache_read_input_tokens" bigint not null default 0, "calls" int not null default 0, constraint "llm_usage_pkey" primary key ("tenant_id", "day"));`);
    this.addSql(`alter table "llm_usage" add constraint "llm_usage_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "llm_usage";`);
    this.addSql(`drop table if exists "explanations";`);
  }
}
