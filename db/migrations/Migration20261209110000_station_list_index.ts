import { Migration } from '@mikro-orm/migrations';

/**
 * The station list's per-station figures (anomalous sessions, highest score, latest occurrence)
 * from the anomalous sessions alone, by an index-only scan per station: at a million sessions the
 * list aggregated every session of the tenant per request (p50 300 ms, BENCHMARKS.md).
 */
export class Migration20261209110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "charging_sessions_station_anomalous_index" on "charging_sessions" ("tenant_id", "station_id") include ("anomaly_score", "occurrence_at") where "is_anomaly";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "charging_sessions_station_anomalous_index";`);
  }
}
