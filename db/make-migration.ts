// Developer tool: diff the entity definitions against a scratch database that has every committed
// migration applied, and write the difference as a new migration file under db/migrations/.
// Usage: DATABASE_URL=postgres://…/scratch npx tsx db/make-migration.ts
import { MikroORM } from '@mikro-orm/core';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { migrate, ormOptions } from './orm';

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must point at a scratch database');
  const base = ormOptions(url);
  const orm = await MikroORM.init<PostgreSqlDriver>({ ...base, migrations: { ...base.migrations, path: 'db/migrations', emit: 'ts' } });
  try {
    await migrate(orm);
    const result = await orm.getMigrator().createMigration('db/migrations');
    console.log(result.fileName ? `wrote db/migrations/${result.fileName}` : 'no schema changes');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
