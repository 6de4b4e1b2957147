// One MikroORM instance per process. Tenancy is enforced here, not in handlers: every entity with a
// tenant relation carries the default `tenant` filter, so a query through an EntityManager fork
// that has not been given a tenant fails instead of reading other tenants' rows.
import { MikroORM, type Options } from '@mikro-orm/core';
import { PostgreSqlDriver, type EntityManager } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas, sharedWithAllTenants, tenantOwnedEntities } from '../entities';
import { migrationsList } from './migrations';

export type Orm = MikroORM<PostgreSqlDriver>;
export type { EntityManager };

export const TENANT_FILTER = 'tenant';

export function ormOptions(clientUrl: string, extra: Partial<Options<PostgreSqlDriver>> = {}): Options<PostgreSqlDriver> {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities: entitySchemas,
    extensions: [Migrator],
    discovery: { disableDynamicFileAccess: true },
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    filters: {
      [TENANT_FILTER]: {
        cond: (args: { tenantId?: string }, type: string, _em: unknown, _opts: unknown, entityName?: unknown) => {
          if (!args?.tenantId) throw new Error('tenant filter used without a tenant');
          const name = typeof entityName === 'string' ? entityName : (entityName as { name?: string } | undefined)?.name;
          // Shared rows (e.g. base models) are readable by every tenant, never writable through a tenant.
          if (type === 'read' && name && sharedWithAllTenants.includes(name)) return { $or: [{ tenant: null }, { tenant: args.tenantId }] };
          return { tenant: args.tenantId };
        },
        entity: tenantOwnedEntities,
        default: true,
      },
    },
    pool: { min: 0, max: 10 },
    debug: false,
    ...extra,
  };
}

export async function openOrm(clientUrl: string, extra: Partial<Options<PostgreSqlDriver>> = {}): Promise<Orm> {
  return MikroORM.init<PostgreSqlDriver>(ormOptions(clientUrl, extra));
}

/** Applies the committed migrations; the schema is never auto-synced at run time. */
export async function migrate(orm: Orm): Promise<void> {
  await orm.getMigrator().up();
}

/** A fork of the EntityManager that can only see and write one tenant's rows. */
export function tenantEm(orm: Orm, tenantId: string): EntityManager {
  const em = orm.em.fork();
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em;
}
