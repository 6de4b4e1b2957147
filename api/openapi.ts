import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { accessOf } from './permissions';
import type { RouteSpec } from './route';
import { ANOMALY_CATEGORIES } from '../domain/analysis/types';
import { EVENT_TYPES } from '../domain/webhooks/events';
import { ErrorSchema } from './schemas/common';

export const API_TITLE = 'EV Network Intelligence API';
export const API_VERSION = '0.1.0';

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Missing, malformed, unknown, revoked or expired Bearer token (the references keep 400 for these, not 401)',
  403: 'The API key acts as a member; this endpoint needs the admin role (api/permissions.ts)',
  413: 'Request body too large',
  415: 'A request body whose Content-Type is not JSON (application/json or +json); a body without a Content-Type is read as JSON',
  422: 'Validation error: a field, a parameter, malformed JSON, or a NUL character anywhere in the request (`errors` names where)',
  429: "The API key's rate limit is spent (per minute; see the RateLimit-* and Retry-After headers)",
};

export function buildOpenApiDocument(routes: RouteSpec[]) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`evni_…`). The key decides the tenant.',
  });
  for (const r of routes) {
    const responses: Record<string, { description: string; content?: object }> = {};
    const access = accessOf(r.method, r.path);
    const codes = {
      ...(access === 'public' ? {} : { 400: STANDARD_ERRORS[400], 429: STANDARD_ERRORS[429] }),
      ...(access === 'admin' ? { 403: STANDARD_ERRORS[403] } : {}),
      ...(r.body ? { 413: STANDARD_ERRORS[413], 415: STANDARD_ERRORS[415] } : {}),
      ...(r.body || r.query || r.params ? { 422: STANDARD_ERRORS[422] } : {}),
    };
    for (const [code, description] of Object.entries(codes)) {
      responses[code] = { description, content: { 'application/json': { schema: ErrorSchema } } };
    }
    for (const [code, res] of Object.entries(r.responses)) {
      responses[code] = res.schema ? { description: res.description, content: { 'application/json': { schema: res.schema } } } : { description: res.description };
    }
    registry.registerPath({
      method: r.method,
      path: r.path,
      summary: r.summary,
      description: r.description,
      tags: r.tags,
      security: access === 'public' ? [] : [{ [bearer.name]: [] }],
      request: {
        params: r.params,
        query: r.query,
        // Optional where an empty body is valid (PATCH /v1/sessions/{session_id}: `{}` returns the session).
        body: r.body ? { required: r.streamBody || !r.body.safeParse({}).success, content: { 'application/json': { schema: r.body } } } : undefined,
      },
      responses: responses as never,
    });
  }
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: API_TITLE,
      version: API_VERSION,
      description:
        'Push OCPP meter values per charging session; get anomaly verdicts back. Every non-2xx response is `{"detail": "…"}`. ' +
        'Request bodies and query parameters accept the camelCase names and their snake_case aliases. ' +
        'Timestamps in responses are UTC with `Z`: whole seconds as `2026-02-27T10:31:02Z`, milliseconds only when there are some. ' +
        'A NUL character (U+0000) anywhere in a request (a value, an object key, the path or the query) is a 422 naming its place. ' +
        'Malformed JSON is a 422; a body that is not JSON by its Content-Type is a 415. A missing or invalid API key is a 400 (not 401), as the references say. ' +
        'A method a path does not answer is a 405 with `Allow`. Extensions beyond the references are marked as such in their descriptions.',
    },
    servers: [{ url: '/' }],
  });
}

/** A plain-text summary for language models, generated from the same route list (and the document built from it). */
export function buildLlmsTxt(routes: RouteSpec[]): string {
  const doc = buildOpenApiDocument(routes) as unknown as {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[]; allOf?: object[] }> };
  };
  const lines = [
    `# ${API_TITLE}`,
    '',
    '> EV charging session anomaly detection as a service. Push OCPP meter-value sessions; get back anomaly scores, categories and confidence.',
    '',
    '## Authentication',
    'Every /v1 request needs `Authorization: Bearer <API key>`. The key decides the tenant; no tenant header. A missing, malformed, unknown, revoked or expired key is a 400.',
    '',
    '## Endpoints',
  ];
  const refName = (ref: string | undefined) => ref?.split('/').pop();
  const keySchemas = new Set<string>();
  const tags = [...new Set(routes.flatMap((r) => r.tags))];
  for (const tag of tags) {
    lines.push('', `### ${tag}`);
    for (const r of routes.filter((x) => x.tags[0] === tag)) {
      const op = doc.paths[r.path]?.[r.method];
      const codes = op ? Object.keys(op.responses).sort().join(', ') : '';
      lines.push(`${r.method.toUpperCase()} ${r.path} — ${r.summary}${r.description ? `. ${r.description}` : ''}`);
      const queryNames = r.query ? Object.keys(r.query.shape) : [];
      if (queryNames.length > 0) lines.push(`Query params: ${queryNames.join(', ')}`);
      if (codes) lines.push(`Responses: ${codes}`);
      const body = refName(op?.requestBody?.content['application/json']?.schema.$ref);
      if (body) keySchemas.add(body);
      for (const [code, res] of Object.entries(op?.responses ?? {})) {
        const name = refName((res as { content?: Record<string, { schema: { $ref?: string } }> }).content?.['application/json']?.schema.$ref);
        if (name && code.startsWith('2')) keySchemas.add(name);
      }
    }
  }
  lines.push(
    '',
    '## Error format',
    'All non-2xx responses return {"detail": "human-readable message"}; a 422 adds "errors": [{"loc": [...], "msg": "..."}].',
    '400 missing or invalid Bearer token · 403 the key lacks the role · 404 unknown resource (or another tenant\'s) · 405 method not allowed (Allow header) · 409 conflict · 413 body too large · 415 body not JSON · 422 validation error or malformed JSON · 429 rate limited (Retry-After) · 503 a dependency is unavailable (Retry-After)',
    '',
    '## Key schemas',
  );
  for (const name of ['MeterValue', 'AnomalyDetail', ...[...keySchemas].filter((n) => n !== 'Health' && n !== 'NotReady'), 'ErrorResponse']) {
    const schema = doc.components.schemas[name];
    if (!schema || lines.some((l) => l.startsWith(`${name} — `))) continue;
    const required = new Set<string>();
    const props: string[] = [];
    // An extended schema is an allOf of its base (a $ref) and its own fields.
    const collect = (x: { properties?: Record<string, unknown>; required?: string[]; allOf?: object[]; $ref?: string } | undefined) => {
      if (!x) return;
      if (x.$ref) return collect(doc.components.schemas[refName(x.$ref)!] as never);
      for (const part of x.allOf ?? []) collect(part as never);
      for (const f of Object.keys(x.properties ?? {})) if (!props.includes(f)) props.push(f);
      for (const f of x.required ?? []) required.add(f);
    };
    collect(schema as never);
    const fields = props.map((f) => (required.has(f) ? `${f}*` : f));
    lines.push(`${name} — ${fields.join(', ')}`);
  }
  lines.push('(* required in requests, always present in responses)', '', '## Anomaly categories', ANOMALY_CATEGORIES.join(', '), '');
  lines.push(
    '## Webhooks',
    'Register endpoints with the /v1/webhooks endpoints; each delivery is a signed POST of {"event", …fields, "webhook_id"}.',
    `Events: ${EVENT_TYPES.join(', ')}`,
    '',
    '## Conventions',
    'Timestamps: responses use UTC with Z (2026-02-27T10:31:02Z; milliseconds only when there are some); requests need a UTC offset, list filters also take a date alone or a date-time without an offset (read as UTC).',
    'Request bodies and query parameters take camelCase names and their snake_case aliases. Lists: {"content": [...], "pagination": {"totalCount", "page", "size"}}, page 1-based, pageSize ≤ 100.',
    'A sessionId that appears twice in one batch: the last occurrence wins. The session id "batch" is reserved.',
    '',
    '## Resources',
    'OpenAPI JSON: /openapi.json',
    'Swagger UI: /docs',
    'ReDoc: /redoc',
    '',
  );
  return lines.join('\n');
}
