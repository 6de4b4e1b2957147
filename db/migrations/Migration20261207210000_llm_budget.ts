import { Migration } from '@mikro-orm/migrations';

/**
 * The organization's own daily LLM token budget (explanations and answers): tokens per UTC day,
 * 0 = no LLM use allowed, null = the service default (`EVNI_LLM_DAILY_TOKEN_BUDGET`).
 */
export class Migration20261207210000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "organizations" add column "llm_daily_token_budget" int null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "organizations" drop column if exists "llm_daily_token_budget";`);
  }
}
