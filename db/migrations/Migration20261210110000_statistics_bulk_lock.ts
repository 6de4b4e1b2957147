import { Migration } from '@mikro-orm/migrations';

/**
 * The statistics triggers (Migration20261209100000) took one advisory lock per place a statement
 * touched. A statement over many connectors (a seed or an import of 120,000 sessions) needed more
 * locks than PostgreSQL's lock table holds ("out of shared memory", max_locks_per_transaction).
 * Now every writer also holds its tenant's lock, shared; a statement over more than 1,000 places
 * takes its tenants' locks exclusively instead of one per place, which waits for every writer of
 * them and makes them wait. Interactive writes and batch chunks (200 sessions) stay per place.
 */
export class Migration20261210110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function "statistics_lock_places"(places text[]) returns void language plpgsql as $$
      declare p text; bulk boolean;
      begin
        -- A place is 'tenant/station/connector'; its tenant's lock comes first, then the places in order.
        bulk := (select count(distinct x) from unnest(places) x) > 1000;
        for p in select distinct split_part(x, '/', 1) from unnest(places) x order by 1 loop
          if bulk then
            perform pg_advisory_xact_lock(hashtextextended('statistics-tenant:' || p, 0));
          else
            perform pg_advisory_xact_lock_shared(hashtextextended('statistics-tenant:' || p, 0));
          end if;
        end loop;
        if bulk then return; end if;
        for p in select distinct x from unnest(places) x order by 1 loop
          perform pg_advisory_xact_lock(hashtextextended('statistics:' || p, 0));
        end loop;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`create or replace function "statistics_lock_places"(places text[]) returns void language plpgsql as $$
      declare p text;
      begin
        for p in select distinct x from unnest(places) x order by 1 loop
          perform pg_advisory_xact_lock(hashtextextended('statistics:' || p, 0));
        end loop;
      end $$;`);
  }
}
