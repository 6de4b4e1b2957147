// SORC's SoC overlay per session (issue 4): kept beside the readings, never mixed into them.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261124233934 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "charging_sessions" add column "reconstructed_soc" jsonb null, add column "sorc_confidence" double precision null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "charging_sessions" drop column "reconstructed_soc", drop column "sorc_confidence";`);
  }

}
