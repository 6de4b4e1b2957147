import { Migration } from '@mikro-orm/migrations';

/**
 * A batch item also keeps its validated readings as one JSON text until a chunk has processed it,
 * so the chunk analyses them without reading them back from meter_values (PostgreSQL building
 * JSON from 19,200 rows per chunk was its largest single cost). Items staged before this column
 * get theirs in migration 20261125022000.
 */
export class Migration20261125021000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "batch_items" add column "readings_json" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "batch_items" drop column "readings_json";`);
  }
}
