// Operator CLI for deployments that do not use `npm start`:
//   npm run cli -- create-tenant "<name>"   creates a tenant and prints its first admin key.
// Uses DATABASE_URL, or the database of a running `npm start` (recorded in .data/stack.json).
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config';
import { migrate, openOrm } from '../db/orm';
import { createTenantWithAdminKey } from '../domain/api-keys';

function databaseUrl(): string {
  if (config.databaseUrl) return config.databaseUrl;
  const stackFile = path.join(config.dataDir, 'stack.json');
  if (fs.existsSync(stackFile)) return JSON.parse(fs.readFileSync(stackFile, 'utf8')).databaseUrl;
  throw new Error('Set DATABASE_URL (or run `npm start` first)');
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (command !== 'create-tenant' || rest.length !== 1 || !rest[0].trim()) {
    console.error('usage: npm run cli -- create-tenant "<tenant name>"');
    return 2;
  }
  const orm = await openOrm(databaseUrl());
  try {
    await migrate(orm);
    const { tenant, apiKey, key } = await createTenantWithAdminKey(orm.em.fork(), rest[0].trim());
    console.log(`Tenant: ${tenant.id} (${tenant.name})`);
    console.log(`API key id: ${apiKey.id}`);
    console.log(`API key: ${key}`);
    console.log('Store the key now: it is not shown again.');
    return 0;
  } finally {
    await orm.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  },
);
