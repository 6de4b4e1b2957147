import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { accessOf } from './permissions';
import type { RouteSpec } from './route';
import { ErrorSchema } from './schemas/common';

export const API_TITLE = 'EV Network Intelligence API';
export const API_VERSION = '0.1.0';

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Missing, malformed, unknown, revoked or expired Bearer token; malformed JSON',
  403: 'The API key acts as a member; this endpoint needs the admin role (api/permissions.ts)',
  413: 'Request body too large',
  422: 'Validation error',
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
      ...(r.body ? { 413: STANDARD_ERRORS[413] } : {}),
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
        body: r.body ? { required: true, content: { 'application/json': { schema: r.body } } } : undefined,
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
        'Request bodies and query parameters accept the camelCase names and their snake_case aliases.',
    },
    servers: [{ url: '/' }],
  });
}

/** A plain-text summary for language models, generated from the same route list. */
export function buildLlmsTxt(routes: RouteSpec[]): string {
  const lines = [
    `# ${API_TITLE}`,
    '',
    '> EV charging session anomaly detection as a service. Push OCPP meter-value sessions; get back anomaly scores, categories and confidence.',
    '',
    '## Authentication',
    'Every /v1 request needs `Authorization: Bearer <API key>`. The key decides the tenant.',
    '',
    '## Endpoints',
  ];
  for (const r of routes) lines.push(`${r.method.toUpperCase()} ${r.path} — ${r.summary}${r.description ? `. ${r.description}` : ''}`);
  lines.push('', '## Errors', 'All non-2xx responses return {"detail": "human-readable message"}.', '', '## Resources', 'OpenAPI JSON: /openapi.json', 'Swagger UI: /docs', 'ReDoc: /redoc', '');
  return lines.join('\n');
}
