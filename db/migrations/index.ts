// Migrations are listed explicitly (no directory scan), so the same list runs under tsx, in tests
// and from the CLI. Generate new ones with db/make-migration.ts and add them here in order.
import { Migration20261124210513 } from './Migration20261124210513_tenancy';
import { Migration20261124211454 } from './Migration20261124211454_sessions';
import { Migration20261124214521 } from './Migration20261124214521_batches';
import { Migration20261124222500 } from './Migration20261124222500_batch_payload_text';
import { Migration20261124224500 } from './Migration20261124224500_meter_values_without_fks';
import { Migration20261124225122 } from './Migration20261124225122_models';
import { Migration20261124233934 } from './Migration20261124233934_sorc_overlay';
import { Migration20261125001000 } from './Migration20261125001000_batch_items_staged_readings';
import { Migration20261125020000 } from './Migration20261125020000_meter_values_natural_key';
import { Migration20261125021000 } from './Migration20261125021000_batch_items_readings_json';
import { Migration20261125022000 } from './Migration20261125022000_batch_readings_written_by_chunks';
import { Migration20261125023000 } from './Migration20261125023000_compact_soc_overlay';
import { Migration20261125060000 } from './Migration20261125060000_batch_items_session_json';
import { Migration20261206190000 } from './Migration20261206190000_batch_items_present_fields';
import { Migration20261206210000 } from './Migration20261206210000_organizations_members';
import { Migration20261206211000 } from './Migration20261206211000_rate_limits';
import { Migration20261207190000 } from './Migration20261207190000_explanations';
import { Migration20261207200000 } from './Migration20261207200000_webhooks';
import { Migration20261207210000 } from './Migration20261207210000_llm_budget';
import { Migration20261208110000 } from './Migration20261208110000_station_rollups';
import { Migration20261208105000 } from './Migration20261208105000_statistics';
import { Migration20261208100000 } from './Migration20261208100000_anomaly_issues';
import { Migration20261208140000 } from './Migration20261208140000_session_flags_computed_on_read';
import { Migration20261209100000 } from './Migration20261209100000_statistics_anomalous_sessions';
import { Migration20261208130000 } from './Migration20261208130000_detector_version_length';
import { Migration20261208120000 } from './Migration20261208120000_fine_tune';

export const migrationsList = [
  { name: 'Migration20261124210513_tenancy', class: Migration20261124210513 },
  { name: 'Migration20261124211454_sessions', class: Migration20261124211454 },
  { name: 'Migration20261124214521_batches', class: Migration20261124214521 },
  { name: 'Migration20261124222500_batch_payload_text', class: Migration20261124222500 },
  { name: 'Migration20261124224500_meter_values_without_fks', class: Migration20261124224500 },
  { name: 'Migration20261124225122_models', class: Migration20261124225122 },
  { name: 'Migration20261124233934_sorc_overlay', class: Migration20261124233934 },
  { name: 'Migration20261125001000_batch_items_staged_readings', class: Migration20261125001000 },
  { name: 'Migration20261125020000_meter_values_natural_key', class: Migration20261125020000 },
  { name: 'Migration20261125021000_batch_items_readings_json', class: Migration20261125021000 },
  { name: 'Migration20261125022000_batch_readings_written_by_chunks', class: Migration20261125022000 },
  { name: 'Migration20261125023000_compact_soc_overlay', class: Migration20261125023000 },
  { name: 'Migration20261125060000_batch_items_session_json', class: Migration20261125060000 },
  { name: 'Migration20261206190000_batch_items_present_fields', class: Migration20261206190000 },
  { name: 'Migration20261206210000_organizations_members', class: Migration20261206210000 },
  { name: 'Migration20261206211000_rate_limits', class: Migration20261206211000 },
  { name: 'Migration20261207190000_explanations', class: Migration20261207190000 },
  { name: 'Migration20261207200000_webhooks', class: Migration20261207200000 },
  { name: 'Migration20261207210000_llm_budget', class: Migration20261207210000 },
  { name: 'Migration20261208100000_anomaly_issues', class: Migration20261208100000 },
  { name: 'Migration20261208105000_statistics', class: Migration20261208105000 },
  { name: 'Migration20261208110000_station_rollups', class: Migration20261208110000 },
  { name: 'Migration20261208120000_fine_tune', class: Migration20261208120000 },
  { name: 'Migration20261208130000_detector_version_length', class: Migration20261208130000 },
  { name: 'Migration20261208140000_session_flags_computed_on_read', class: Migration20261208140000 },
  { name: 'Migration20261209100000_statistics_anomalous_sessions', class: Migration20261209100000 },
];
