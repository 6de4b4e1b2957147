import { Migration } from '@mikro-orm/migrations';

/**
 * A verdict names the model version that made it; a tenant's fine-tuned model adds its own suffix
 * (`…@2.0.0-ft.<hash>/pp-…`, 48 characters today), which left no room in 50.
 */
export class Migration20261208130000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "charging_sessions" alter column "detector" type varchar(100);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "charging_sessions" alter column "detector" type varchar(50);`);
  }
}
