// Operator CLI for deployments that do not use `npm start`:
//   npm run cli -- create-tenant "<name>" [--admin-email <email>]
//     creates a tenant (with its organization and first admin member) and prints the admin's key.
//   npm run cli -- shade-backfill <tenant id> <from YYYY-MM-DD> [<to YYYY-MM-DD>]
//     runs SHADE over past local days through the tenant's schedule's backfill (stack/shade-cli.ts).
//   npm run cli -- station-rollups-rebuild <tenant id>
//     rebuilds the tenant's station rollups from the stored readings (domain/stations/rebuild.ts).
// Uses DATABASE_URL, or the database of a running `npm start` (recorded in .data/stack.json).
import { config } from '../config';
import { migrate, openOrm } from '../db/orm';
import { createTenantWithAdminKey } from '../domain/api-keys';
import { isUuid } from '../domain/ids';
import { rebuildStationRollups } from '../domain/stations/rebuild';
import { fromStack, knownTenant } from './cli-common';
import { shadeBackfill } from './shade-cli';

/** DATABASE_URL, or the database of a running `npm start`. */
const databaseUrl = () => fromStack(config.databaseUrl, 'databaseUrl', 'DATABASE_URL');
/** TEMPORAL_ADDRESS, or the Temporal server of a running `npm start`. */
const temporalAddress = () => fromStack(config.temporalAddress, 'temporalAddress', 'TEMPORAL_ADDRESS');

async function main(argv: string[]) {
  const [command, ...args] = argv;
  if (command === 'shade-backfill') {
    const orm = await openOrm(databaseUrl());
    return shadeBackfill(orm, temporalAddress(), args).finally(() => orm.close());
  }
  if (command === 'station-rollups-rebuild') {
    if (args.length !== 1 || !isUuid(args[0])) {
      console.error('usage: npm run cli -- station-rollups-rebuild <tenant id>');
      return 2;
    }
    const orm = await openOrm(databaseUrl());
    try {
      if (!(await knownTenant(orm.em.fork(), args[0]))) return 1;
      const t0 = Date.now();
      const done = await rebuildStationRollups(orm.em.fork(), args[0], { onChunk: (n) => n % 10_000 === 0 && console.log(`${n} sessions…`) });
      console.log(`Station rollups rebuilt for ${done} sessions of tenant ${args[0]} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return 0;
    } finally {
      await orm.close();
    }
  }
  const emailAt = args.indexOf('--admin-email');
  const email = emailAt >= 0 ? args[emailAt + 1] : undefined;
  const rest = emailAt >= 0 ? [...args.slice(0, emailAt), ...args.slice(emailAt + 2)] : args;
  if (command !== 'create-tenant' || rest.length !== 1 || !rest[0].trim() || (emailAt >= 0 && !/^[^@\s]+@[^@\s]+$/.test(email ?? ''))) {
    console.error('usage: npm run cli -- create-tenant "<tenant name>" [--admin-email <email>]');
    return 2;
  }
  const orm = await openOrm(databaseUrl());
  try {
    await migrate(orm);
    const { tenant, member, apiKey, key } = await createTenantWithAdminKey(orm.em.fork(), rest[0].trim(), 'admin', email ? { adminEmail: email } : {});
    console.log(`Tenant: ${tenant.id} (${tenant.name})`);
    console.log(`First admin: ${member.id} (${member.email})`);
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
