// What the operator CLI's commands share: where the stack's database and Temporal server are, and
// the check that a tenant named on the command line exists.
import fs from 'node:fs';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { config } from '../config';
import { sql } from '../db/sql';

/** The configured value, or the one a running `npm start` recorded in .data/stack.json. */
export function fromStack(configured: string | undefined, key: 'databaseUrl' | 'temporalAddress', envName: string): string {
  if (configured) return configured;
  const stackFile = path.join(config.dataDir, 'stack.json');
  if (fs.existsSync(stackFile)) return JSON.parse(fs.readFileSync(stackFile, 'utf8'))[key];
  throw new Error(`Set ${envName} (or run \`npm start\` first)`);
}

/** Whether the tenant exists; says so on stderr when it does not. */
export async function knownTenant(em: EntityManager, tenantId: string): Promise<boolean> {
  if ((await sql(em, 'select 1 from tenants where id = ?', [tenantId])).length > 0) return true;
  console.error(`error: no tenant ${tenantId}`);
  return false;
}
