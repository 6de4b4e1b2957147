import { Migration } from '@mikro-orm/migrations';

/**
 * Batch readings are no longer COPYed into meter_values at submit under a staged session id: the
 * submit keeps them as JSON in batch_items and the chunk writes them under the final session id.
 * Items still pending from before get their staged readings as JSON, and the staged rows go.
 */
export class Migration20261125022000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update "batch_items" b set readings_json = (
        select json_agg(json_build_object('timestamp', m.timestamp, 'value', m.value, 'measurand', m.measurand, 'unit', m.unit,
                 'phase', m.phase, 'location', m.location, 'context', m.context, 'format', m.format, 'multiplier', m.multiplier,
                 'reconstructed', m.reconstructed) order by m.seq)::text
          from "meter_values" m where m.session_id = b.staged_id)
      where b.state = 'pending' and b.reading_count > 0 and b.readings_json is null;`);
    this.addSql(`delete from "meter_values" m using "batch_items" b where b.state = 'pending' and m.session_id = b.staged_id;`);
  }

  override async down(): Promise<void> {
    this.addSql(`insert into "meter_values" (tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed)
      select b.tenant_id, b.staged_id, e.ord - 1, (e.v->>'timestamp')::timestamptz, (e.v->>'value')::float8,
             e.v->>'measurand', e.v->>'unit', e.v->>'phase', e.v->>'location', e.v->>'context', e.v->>'format',
             (e.v->>'multiplier')::smallint, coalesce((e.v->>'reconstructed')::boolean, false)
        from "batch_items" b cross join lateral json_array_elements(b.readings_json::json) with ordinality as e(v, ord)
       where b.state = 'pending' and b.readings_json is not null;`);
  }
}
