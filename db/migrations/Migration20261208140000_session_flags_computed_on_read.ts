import { Migration } from '@mikro-orm/migrations';

/**
 * isRecurring and isIncident are computed from the anomaly issues whenever a session is read
 * (domain/anomalies/flags.ts): a later anomaly changes an earlier session's flags, so a copy
 * stored at analysis time could only go stale. Nothing reads these columns any more.
 */
export class Migration20261208140000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "charging_sessions" drop column "is_incident", drop column "is_recurring";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "charging_sessions" add column "is_incident" boolean null, add column "is_recurring" boolean null;`);
  }
}
