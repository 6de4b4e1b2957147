import { Migration } from '@mikro-orm/migrations';

/**
 * The statistics triggers (Migration20261209100000) took one advisory lock per place (tenant,
 * station, connector) a statement touched. A statement over many connectors (a seed or an import
 * of 120,000 sessions) needed more locks than PostgreSQL's lock table holds ("out of shared
 * memory", max_locks_per_transaction). Places now hash into 512 locks per tenant: a transaction
 * holds at most that many whatever it writes, two writers of different connectors share a lock
 * once in 512, and every lock is exclusive, so no writer ever upgrades one.
 */
export class Migration20261210110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function "statistics_lock_places"(places text[]) returns void language plpgsql as $$
      declare k bigint;
      begin
        -- A place is 'tenant/station/connector'; its lock is one of its tenant's 512, taken in key order.
        for k in select distinct hashtextextended('statistics:' || split_part(x, '/', 1) || '#' || (hashtext(x) & 511), 0)
                   from unnest(places) x order by 1 loop
          perform pg_advisory_xact_lock(k);
        end loop;
      end $$;`);
  }

  override async down(): Promise<void> {
    // Nothing to restore: the hashed locks serialize every pair of writers the per-place ones did
    // (and a few more), and rolling back Migration20261209100000 drops the function.
  }
}
