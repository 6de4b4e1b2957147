// Who may call what: the one table of every endpoint's permission (the README shows the same table,
// and test/permissions.test.ts walks it over HTTP). A route without a row here does not start:
// `accessOf` throws when the router is built, so a new endpoint must join the table.
export type Role = 'admin' | 'member';
/** `public`: no key; `member`: a key of any role; `admin`: a key whose member is an admin. */
export type Access = 'public' | 'member' | 'admin';

export const ROLES: Role[] = ['admin', 'member'];

/** `METHOD path` (OpenAPI path form) → who may call it. */
export const PERMISSIONS = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
  'GET /redoc': 'public',
  'GET /llms.txt': 'public',

  'GET /v1/organization': 'member',
  'PUT /v1/organization': 'admin',
  'GET /v1/members': 'member',
  'DELETE /v1/members/{user_id}': 'admin',
  'PATCH /v1/members/{user_id}': 'admin',
  'POST /v1/members/invitations': 'admin',
  'DELETE /v1/members/invitations/{invitation_id}': 'admin',
  'POST /v1/invitations/accept': 'public',

  'GET /v1/api-keys': 'member',
  'POST /v1/api-keys': 'admin',
  'DELETE /v1/api-keys/{key_id}': 'admin',

  'GET /v1/sessions': 'member',
  'POST /v1/sessions': 'member',
  'GET /v1/sessions/{session_id}': 'member',
  'PUT /v1/sessions/{session_id}': 'member',
  'PATCH /v1/sessions/{session_id}': 'member',
  'POST /v1/sessions/batch': 'member',
  'GET /v1/sessions/batch/{batch_id}': 'member',
  'GET /v1/sessions/{session_id}/explain': 'member',
  'POST /v1/sessions/{session_id}/explain': 'member',
  'POST /v1/sessions/{session_id}/ask': 'member',

  'GET /v1/models': 'member',
  'GET /v1/models/{model_id}': 'member',
  'POST /v1/models/{model_id}/promote': 'admin',
  'POST /v1/models/fine-tune': 'admin',
  'GET /v1/models/fine-tune/{job_id}': 'member',
  'POST /v1/models/fine-tune/{job_id}/cancel': 'admin',

  'GET /v1/webhooks': 'member',
  'POST /v1/webhooks': 'admin',
  'GET /v1/webhooks/{webhook_id}': 'member',
  'PATCH /v1/webhooks/{webhook_id}': 'admin',
  'DELETE /v1/webhooks/{webhook_id}': 'admin',
  'POST /v1/webhooks/{webhook_id}/rotate-secret': 'admin',
  'POST /v1/webhooks/{webhook_id}/test': 'admin',

  'GET /v1/statistics': 'member',

  'GET /v1/stations': 'member',
  'GET /v1/stations/lookup': 'member',
  'GET /v1/stations/{charging_station_id}': 'member',
  'GET /v1/stations/{charging_station_id}/connectors': 'member',
  'GET /v1/stations/{charging_station_id}/energy': 'member',
  'GET /v1/stations/{charging_station_id}/inference': 'member',
  'GET /v1/stations/{charging_station_id}/anomalies': 'member',
  'GET /v1/stations/{charging_station_id}/shade-overview': 'member',

  'GET /v1/anomalies': 'member',
  'GET /v1/anomalies/connectors': 'member',
  'GET /v1/anomalies/sessions': 'member',
  'GET /v1/anomalies/sessions/{session_id}/categories/{category_id}/details': 'member',
  'PUT /v1/anomalies/issues/{issue_id}': 'member',
} as const satisfies Record<string, Access>;

export type Endpoint = keyof typeof PERMISSIONS;

/** The endpoints served outside the route list (documentation), for the table's completeness check. */
export const DOCUMENTATION_ENDPOINTS: Endpoint[] = ['GET /openapi.json', 'GET /docs', 'GET /redoc', 'GET /llms.txt'];

export function endpointKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

/** The access of a route; throws for a route that has no row (it must join the table). */
export function accessOf(method: string, path: string): Access {
  const access = (PERMISSIONS as Record<string, Access>)[endpointKey(method, path)];
  if (!access) throw new Error(`${endpointKey(method, path)} has no row in api/permissions.ts: every endpoint must say who may call it`);
  return access;
}

/** May a caller of this role use an endpoint of this access? */
export function allows(access: Access, role: Role): boolean {
  return access !== 'admin' || role === 'admin';
}

/** The 403 detail: names the role needed and the caller's. */
export function forbiddenDetail(access: Access, role: Role): string {
  return `This endpoint needs the ${access} role (your API key acts as ${role === 'admin' ? 'an admin' : 'a member'})`;
}

/** The table as the README shows it (test/permissions.test.ts checks the README against this). */
export function permissionsMarkdown(): string {
  const cell = (access: Access, role: Role) =>
    access === 'public' ? 'allowed (no key needed)' : allows(access, role) ? 'allowed' : `403: needs the ${access} role`;
  const rows = (Object.entries(PERMISSIONS) as [Endpoint, Access][]).map(([e, a]) => `| \`${e}\` | ${ROLES.map((r) => cell(a, r)).join(' | ')} |`);
  return ['| endpoint | admin | member |', '|---|---|---|', ...rows].join('\n');
}
