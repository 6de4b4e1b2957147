import { getOrganization, putOrganization } from '../../domain/organization';
import { followTimeZone } from '../../domain/stations/schedules';
import { defineRoute } from '../route';
import { OrganizationOut, presentOrganization, PutOrganization } from '../schemas/organization';

export const organizationRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/organization',
    summary: 'Get organization',
    description:
      "The caller's organization (one per tenant, created with it): the reference's details, and as extensions its time zone, energy price and currency, and per-key rate limits.",
    tags: ['Organization'],
    responses: { 200: { description: 'The organization', schema: OrganizationOut } },
    handler: async ({ em }) => ({ body: presentOrganization(await getOrganization(em)) }),
  }),
  defineRoute({
    method: 'put',
    path: '/v1/organization',
    summary: 'Update organization',
    description:
      'Creates or updates the organization. `name` is required; `phone`, `address`, `taxIdType` and `taxIdValue` are replaced (absent means null). ' +
      'Extensions: `timeZone` (IANA name; null resets to UTC), `energyPrice` (per kWh, ≥ 0; needs `currency`), `currency` (ISO 4217) and `rateLimits` ' +
      '(`requestsPerMinute`, `batchSubmitsPerMinute`, integers ≥ 1; null = the service default) keep their stored value when absent. Needs the admin role.',
    tags: ['Organization'],
    body: PutOrganization,
    responses: {
      200: { description: 'The organization as stored', schema: OrganizationOut },
    },
    handler: async ({ em, auth, body, deps, log }) => {
      const { organization } = await putOrganization(em, auth.tenant, body);
      // SHADE runs after the tenant's local midnight: its schedule follows the time zone.
      if (body.timeZone !== undefined) await followTimeZone(deps.temporal, deps.config.taskQueue, auth.tenant.id, organization.timeZone, log);
      return { body: presentOrganization(organization) };
    },
  }),
];
