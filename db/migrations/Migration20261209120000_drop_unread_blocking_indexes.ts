import { Migration } from '@mikro-orm/migrations';

/**
 * The two partial indexes of blocking anomalies (Migration20261208105000) served uptime's per-request
 * fault queries; uptime now reads the down intervals of `statistics_anomalous_sessions`
 * (Migration20261209100000) and nothing reads them, while every write of a blocking issue kept them.
 */
export class Migration20261209120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "anomaly_issues_statistics_blocking_index";`);
    this.addSql(`drop index if exists "anomaly_issues_statistics_blocking_place_index";`);
  }

  override async down(): Promise<void> {
    const blocking = `"status" <> 'FALSE_POSITIVE' and "resolved_by" is distinct from 'detector' and "category" in ('ZERO_SESSION', 'CHARGING_EXPECTED')`;
    this.addSql(`create index "anomaly_issues_statistics_blocking_index" on "anomaly_issues" ("tenant_id", "occurred_at") include ("station_id", "connector_id") where ${blocking};`);
    this.addSql(`create index "anomaly_issues_statistics_blocking_place_index" on "anomaly_issues" ("tenant_id", "station_id", "connector_id", "occurred_at") where ${blocking};`);
  }
}
