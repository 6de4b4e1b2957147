import { Migration } from '@mikro-orm/migrations';

/**
 * A batch item records which optional session fields the client sent (`PRESENT_FIELD_BITS` of
 * domain/sessions/types: connectorId 1, evseId 2, metadata 4, status 8, stopReason 16), so that an
 * explicit null can clear a field while an absent one keeps the stored value. Items still pending
 * were staged when both were NULL: a field counts as sent where its column holds a value.
 */
export class Migration20261206190000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "batch_items" add column "present_fields" smallint not null default 0;`);
    this.addSql(`update "batch_items" set present_fields =
        (case when connector_id is not null then 1 else 0 end)
      | (case when evse_id is not null then 2 else 0 end)
      | (case when metadata is not null then 4 else 0 end)
      | (case when client_status is not null then 8 else 0 end)
      | (case when stop_reason is not null then 16 else 0 end)
      where state = 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "batch_items" drop column "present_fields";`);
  }
}
