import { Migration } from '@mikro-orm/migrations';

/**
 * Batch items keep their session fields as columns and their readings in meter_values (under a
 * staged session id) instead of one JSON payload: readings are written once, at submit, and a
 * chunk only creates or re-points sessions. Items still pending are converted in place.
 */
export class Migration20261125001000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "batch_items"
      add column "station_id" varchar(200) null, add column "connector_id" varchar(100) null, add column "evse_id" varchar(200) null,
      add column "metadata" jsonb null, add column "client_status" varchar(16) null, add column "stop_reason" varchar(100) null,
      add column "reading_count" int not null default 0, add column "staged_id" uuid not null default gen_random_uuid();`);
    this.addSql(`update "batch_items" b set
        station_id = coalesce(p.v->>'chargingStationId', st.station_id, ''),
        connector_id = p.v->>'connectorId', evse_id = p.v->>'evseId', metadata = (p.v->'metadata')::jsonb,
        client_status = p.v->>'status', stop_reason = p.v->>'stopReason',
        reading_count = coalesce(json_array_length(p.v->'meterValues'), 0)
      from "batch_items" b2
      cross join lateral (select b2.payload::json as v) p
      left join "charging_sessions" s on s.id = b2.session_db_id
      left join "charging_stations" st on st.id = s.station_id
      where b.batch_id = b2.batch_id and b.idx = b2.idx;`);
    this.addSql(`update "batch_items" set metadata = null where metadata = 'null'::jsonb;`);
    this.addSql(`insert into "meter_values" (tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed)
      select b.tenant_id, b.staged_id, e.ord - 1, (e.v->>'timestamp')::timestamptz, (e.v->>'value')::float8,
             e.v->>'measurand', e.v->>'unit', e.v->>'phase', e.v->>'location', e.v->>'context', e.v->>'format',
             (e.v->>'multiplier')::smallint, coalesce((e.v->>'reconstructed')::boolean, false)
        from "batch_items" b join "batches" bt on bt.id = b.batch_id
        cross join lateral json_array_elements(b.payload::json->'meterValues') with ordinality as e(v, ord)
       where b.state = 'pending' and b.payload is not null and bt.status in ('pending', 'processing');`);
    this.addSql(`alter table "batch_items" alter column "station_id" set not null, alter column "reading_count" drop default, alter column "staged_id" drop default, drop column "payload";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "batch_items" add column "payload" text null;`);
    this.addSql(`update "batch_items" b set payload = json_build_object('sessionId', b.session_id, 'chargingStationId', b.station_id,
        'connectorId', b.connector_id, 'evseId', b.evse_id, 'metadata', b.metadata, 'status', b.client_status, 'stopReason', b.stop_reason,
        'meterValues', coalesce((select json_agg(json_build_object('timestamp', m.timestamp, 'value', m.value, 'measurand', m.measurand, 'unit', m.unit,
            'phase', m.phase, 'location', m.location, 'context', m.context, 'format', m.format, 'multiplier', m.multiplier, 'reconstructed', m.reconstructed) order by m.seq)
          from "meter_values" m where m.session_id = b.staged_id), '[]'::json))::text
      where b.state = 'pending';`);
    this.addSql(`delete from "meter_values" m using "batch_items" b where b.state = 'pending' and m.session_id = b.staged_id;`);
    this.addSql(`alter table "batch_items" drop column "station_id", drop column "connector_id", drop column "evse_id", drop column "metadata",
      drop column "client_status", drop column "stop_reason", drop column "reading_count", drop column "staged_id";`);
  }
}
