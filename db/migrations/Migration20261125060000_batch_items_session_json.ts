import { Migration } from '@mikro-orm/migrations';

/**
 * A batch item stages the session's JSON as the client sent it (its readings are its meterValues)
 * instead of the readings written out as JSON again: the submit copies the body's bytes. Items
 * still pending keep their readings, wrapped as such a session.
 */
export class Migration20261125060000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "batch_items" rename column "readings_json" to "session_json";`);
    this.addSql(`update "batch_items" set session_json = json_build_object('meterValues', session_json::json)::text where session_json is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`update "batch_items" set session_json = coalesce(session_json::json -> 'meterValues', session_json::json -> 'meter_values')::text where session_json is not null;`);
    this.addSql(`alter table "batch_items" rename column "session_json" to "readings_json";`);
  }
}
