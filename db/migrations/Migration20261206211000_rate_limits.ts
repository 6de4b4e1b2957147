import { Migration } from '@mikro-orm/migrations';

/**
 * The shared counters of the per-key rate limits (api/rate-limit.ts): rate-limiter-flexible's
 * RateLimiterPostgres table, created here so the library never creates tables at run time
 * (`tableCreated: true`). One row per budget and API key (`req:<key id>`, `batch:<key id>`):
 * the points consumed in the current window and when it ends (epoch milliseconds). Every API
 * process on this database counts in the same rows, so a limit holds across processes. Expired
 * rows are deleted periodically by the API.
 */
export class Migration20261206211000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "rate_limits" (
      "key" varchar(255) primary key,
      "points" integer not null default 0,
      "expire" bigint
    );`);
    this.addSql(`create index "rate_limits_expire_index" on "rate_limits" ("expire");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_limits";`);
  }
}
