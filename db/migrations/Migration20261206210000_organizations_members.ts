import { Migration } from '@mikro-orm/migrations';

/**
 * Organizations, members and invitations; API keys belong to a member and act with its role.
 *
 * Backfill: every existing tenant gets its organization (named as the tenant). Every tenant that
 * has keys gets one member per distinct key role, with the stand-in email
 * `<role>@<tenant id>.invalid` (`.invalid` is reserved: it can never be a real address), and each
 * key is attached to the member of its role (revoked keys too). `api_keys.role` is then dropped:
 * a key acts with its member's current role.
 */
export class Migration20261206210000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "organizations" ("id" uuid not null, "tenant_id" uuid not null, "name" varchar(200) not null, "phone" varchar(50) null, "address" text null, "tax_id_type" varchar(50) null, "tax_id_value" varchar(100) null, "time_zone" varchar(64) not null default 'UTC', "energy_price" double precision null, "currency" varchar(3) null, "requests_per_minute" int null, "batch_submits_per_minute" int null, "created_at" timestamptz not null, "updated_at" timestamptz null, constraint "organizations_pkey" primary key ("id"));`);
    this.addSql(`alter table "organizations" add constraint "organizations_tenant_id_unique" unique ("tenant_id");`);
    this.addSql(`alter table "organizations" add constraint "organizations_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`insert into "organizations" ("id", "tenant_id", "name", "time_zone", "created_at") select gen_random_uuid(), "id", "name", 'UTC', now() from "tenants";`);

    this.addSql(`create table "members" ("id" uuid not null, "tenant_id" uuid not null, "email" varchar(320) not null, "role" varchar(16) not null, "status" varchar(16) not null default 'active', "joined_at" timestamptz not null, "removed_at" timestamptz null, constraint "members_pkey" primary key ("id"));`);
    this.addSql(`create index "members_tenant_id_index" on "members" ("tenant_id");`);
    this.addSql(`create unique index "members_tenant_id_email_active_unique" on "members" ("tenant_id", "email") where "status" = 'active';`);
    this.addSql(`alter table "members" add constraint "members_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "invitations" ("id" uuid not null, "tenant_id" uuid not null, "email" varchar(320) not null, "role" varchar(16) not null, "token_hash" varchar(64) not null, "invited_by_id" uuid not null, "invited_at" timestamptz not null, "expires_at" timestamptz not null, "accepted_at" timestamptz null, "member_id" uuid null, "withdrawn_at" timestamptz null, constraint "invitations_pkey" primary key ("id"));`);
    this.addSql(`alter table "invitations" add constraint "invitations_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "invitations_tenant_id_email_index" on "invitations" ("tenant_id", "email");`);
    this.addSql(`create index "invitations_invited_by_id_index" on "invitations" ("invited_by_id");`);
    this.addSql(`create index "invitations_member_id_index" on "invitations" ("member_id");`);
    this.addSql(`alter table "invitations" add constraint "invitations_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "invitations" add constraint "invitations_invited_by_id_foreign" foreign key ("invited_by_id") references "members" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "invitations" add constraint "invitations_member_id_foreign" foreign key ("member_id") references "members" ("id") on update cascade on delete set null;`);

    // One stand-in member per tenant and key role, joined when the role's first key was created.
    this.addSql(`insert into "members" ("id", "tenant_id", "email", "role", "status", "joined_at")
      select gen_random_uuid(), "tenant_id", "role" || '@' || "tenant_id" || '.invalid', "role", 'active', min("created_at")
      from "api_keys" group by "tenant_id", "role";`);
    this.addSql(`alter table "api_keys" add column "member_id" uuid null;`);
    this.addSql(`update "api_keys" k set "member_id" = m."id" from "members" m
      where m."tenant_id" = k."tenant_id" and m."email" = k."role" || '@' || k."tenant_id" || '.invalid';`);
    this.addSql(`alter table "api_keys" alter column "member_id" set not null;`);
    this.addSql(`create index "api_keys_member_id_index" on "api_keys" ("member_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_member_id_foreign" foreign key ("member_id") references "members" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_keys" drop column "role";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_keys" add column "role" varchar(16) null;`);
    this.addSql(`update "api_keys" k set "role" = m."role" from "members" m where m."id" = k."member_id";`);
    this.addSql(`alter table "api_keys" alter column "role" set not null;`);
    this.addSql(`alter table "api_keys" drop constraint "api_keys_member_id_foreign";`);
    this.addSql(`alter table "api_keys" drop column "member_id";`);
    this.addSql(`drop table if exists "invitations" cascade;`);
    this.addSql(`drop table if exists "members" cascade;`);
    this.addSql(`drop table if exists "organizations" cascade;`);
  }
}
