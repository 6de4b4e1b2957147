import { ApiKeySchema } from './ApiKey';
import { TenantSchema } from './Tenant';

export * from './ApiKey';
export * from './Tenant';

export const entitySchemas = [TenantSchema, ApiKeySchema];

/** Entities with a `tenant` relation: the ORM's tenant filter applies to every query on them. */
export const tenantOwnedEntities = ['ApiKey'];
