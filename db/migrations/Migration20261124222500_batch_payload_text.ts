import { Migration } from '@mikro-orm/migrations';

/** Staged batch payloads as plain, uncompressed text: written once, read once, never queried. */
export class Migration20261124222500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "batch_items" alter column "payload" type text using "payload"::text;`);
    this.addSql(`alter table "batch_items" alter column "payload" set storage external;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "batch_items" alter column "payload" type jsonb using "payload"::jsonb;`);
  }
}
