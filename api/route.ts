// One route definition serves three purposes: the Koa handler, request validation, and the
// OpenAPI document. Auth, tenancy, body parsing, alias handling and error shapes live here once.
import type { IncomingMessage } from 'node:http';
import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import getRawBody from 'raw-body';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApiKey, ApiKeyRole, Member, Tenant } from '../entities';
import { authenticate, touchApiKey, type AuthFailure } from '../domain/api-keys';
import { DomainError } from '../domain/errors';
import { TENANT_FILTER } from '../db/orm';
import type { AppDeps } from './context';
import { HttpError, toHttpError } from './http-error';
import { camelizeKeys } from '../domain/camel-case';
import { accessOf, allows, forbiddenDetail } from './permissions';
import { enforceRateLimits } from './rate-limit';
import { z } from './zod';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Obj = z.ZodObject<z.ZodRawShape>;

export interface Auth {
  tenant: Tenant;
  apiKey: ApiKey;
  /** The key's member: its current role is the caller's role. */
  member: Member;
}

export interface HandlerInput<P, Q, B, A> {
  params: P;
  query: Q;
  body: B;
  /** Request-scoped EntityManager fork; for authenticated routes it only sees the caller's tenant. */
  em: EntityManager;
  auth: A;
  deps: AppDeps;
  log: Logger;
  requestId: string;
  headers: Record<string, string | string[] | undefined>;
  /** The request body as received (for hashing), when the route has a body (not with `streamBody`). */
  rawBody: string | undefined;
  /** With `streamBody`: the request itself, unread; the handler parses it and enforces the limit. */
  bodyStream: IncomingMessage | undefined;
}

export interface HandlerResult {
  status?: number;
  body: unknown;
}

export interface RouteSpec<P extends Obj = Obj, Q extends Obj = Obj, B extends z.ZodTypeAny = z.ZodTypeAny> {
  method: Method;
  /** OpenAPI form: `/v1/sessions/{session_id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Overrides the default request body limit (batches are larger than anything else). */
  bodyLimitBytes?: (config: AppDeps['config']) => number;
  /**
   * The handler reads the body itself as a stream (`body` then only documents it): for bodies too
   * large to hold in memory. The Content-Type and a declared Content-Length are checked here.
   */
  streamBody?: boolean;
  /** `batch-submit`: besides the key's request budget, counts against its (lower) batch submit budget. */
  rateLimit?: 'batch-submit';
  responses: Record<number, { description: string; schema?: z.ZodTypeAny }>;
  handler: (input: HandlerInput<z.infer<P>, z.infer<Q>, z.infer<B>, Auth>) => Promise<HandlerResult>;
}

export function defineRoute<P extends Obj = Obj, Q extends Obj = Obj, B extends z.ZodTypeAny = z.ZodTypeAny>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** `/v1/x/{id}` → `/v1/x/:id` for the router. */
export const routerPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** A path of the API (OpenAPI form) and the methods it answers. */
export interface Resource {
  path: string;
  methods: Set<string>;
  segments: { literal: string | null }[];
}

/** The resources of these routes and of extra paths (the documentation), each with its methods. */
export function resourcesOf(routes: Pick<RouteSpec, 'method' | 'path'>[], extra: { path: string; methods: string[] }[] = []): Resource[] {
  const byPath = new Map<string, Resource>();
  const add = (path: string, method: string) => {
    let r = byPath.get(path);
    if (!r) {
      const segments = path.split('/').slice(1).map((s) => ({ literal: /^\{\w+\}$/.test(s) ? null : s.toLowerCase() }));
      byPath.set(path, (r = { path, methods: new Set(), segments }));
    }
    r.methods.add(method.toUpperCase());
    // A GET answers HEAD too (Koa and the router do).
    if (method.toUpperCase() === 'GET') r.methods.add('HEAD');
  };
  for (const r of routes) add(r.path, r.method);
  for (const e of extra) for (const m of e.methods) add(e.path, m);
  return [...byPath.values()];
}

/**
 * The resource a request path addresses, or undefined. Where several match, the one with a literal
 * segment where the others have a parameter, leftmost first, wins (as OpenAPI matches concrete paths
 * before templated ones): `/v1/sessions/batch` is the batch endpoint, never a session named "batch".
 */
export function resolveResource(resources: Resource[], requestPath: string): Resource | undefined {
  const path = requestPath.length > 1 && requestPath.endsWith('/') ? requestPath.slice(0, -1) : requestPath;
  const parts = path.split('/').slice(1);
  let best: Resource | undefined;
  for (const r of resources) {
    if (r.segments.length !== parts.length) continue;
    if (!r.segments.every((s, i) => (s.literal === null ? parts[i] !== '' : s.literal === parts[i].toLowerCase()))) continue;
    if (!best || moreSpecific(r, best)) best = r;
  }
  return best;
}

function moreSpecific(a: Resource, b: Resource): boolean {
  for (let i = 0; i < a.segments.length; i++) {
    const la = a.segments[i].literal !== null;
    const lb = b.segments[i].literal !== null;
    if (la !== lb) return la;
  }
  return false;
}

/** The `Allow` header of a resource (RFC 9110): its methods, HEAD with GET, and OPTIONS. */
export function allowHeader(r: Resource): string {
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  return [...order.filter((m) => r.methods.has(m)), 'OPTIONS'].join(', ');
}

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing: 'Missing Authorization header: send "Authorization: Bearer <API key>"',
  malformed: 'Malformed Authorization header: expected "Bearer evni_…"',
  unknown: 'Invalid API key',
  revoked: 'API key has been revoked',
  expired: 'API key has expired',
};

/**
 * Where the first NUL character (U+0000) sits in a parsed request value, in a key or a string, or
 * null. PostgreSQL's text and jsonb cannot hold NUL, so such a request is a 422 naming the place,
 * not a database error.
 */
export function nulPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\0')) return [...path, k];
      const found = nulPath(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}

export const NUL_MESSAGE = 'NUL characters (\\u0000) are not accepted';

/** `mayHoldNul: false` skips the NUL scan (a JSON body whose text has no \u0000 escape cannot hold one). */
function validate<T extends z.ZodTypeAny>(schema: T, value: unknown, where: string, mayHoldNul = true): z.infer<T> {
  const nul = mayHoldNul ? nulPath(value) : null;
  const result = nul ? undefined : schema.safeParse(value);
  if (result?.success) return result.data;
  const errors = result ? result.error.issues.map((i) => ({ loc: [where, ...(i.path as (string | number)[])], msg: i.message })) : [{ loc: [where, ...nul!], msg: NUL_MESSAGE }];
  const first = errors[0];
  throw new HttpError(422, `Validation failed at ${first.loc.join('.')}: ${first.msg}`, errors);
}

async function readJsonBody(ctx: ParameterizedContext, limit: number): Promise<{ raw: string; json: unknown }> {
  const type = ctx.request.type;
  let raw: string;
  try {
    raw = await getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.request.length });
  } catch (err) {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') throw new HttpError(413, `Request body exceeds the limit of ${limit} bytes`);
    throw new HttpError(400, 'Could not read the request body');
  }
  if (raw.trim() === '') return { raw, json: undefined };
  if (type && type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError(415, `Unsupported Content-Type "${type}": send application/json`);
  }
  try {
    return { raw, json: JSON.parse(raw) };
  } catch (err) {
    // 422, not 400: the references keep 400 for a missing or bad API key.
    const msg = `Malformed JSON: ${(err as Error).message}`;
    throw new HttpError(422, `Malformed JSON body: ${(err as Error).message}`, [{ loc: ['body'], msg }]);
  }
}

/** How much more of a refused body (over the limit, or too many uploads) is read and thrown away before answering. */
const DISCARD_WHEN_REFUSED = 64 * 1024 * 1024;

/**
 * Reads and throws away what is left of a streamed body that a handler stopped reading (a 4xx
 * found mid-body) before the answer goes out: HTTP/1.1 clients often read the answer only once
 * they have sent everything, and a connection with unread bytes cannot be kept alive. Past
 * `budget` more bytes the connection is closed after the answer instead.
 */
async function discardRest(ctx: ParameterizedContext, stream: IncomingMessage, budget: number): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return;
  await new Promise<void>((resolve) => {
    let bytes = 0;
    const done = () => {
      stream.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= budget) return;
      ctx.set('Connection', 'close');
      stream.pause();
      done();
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
    stream.resume();
  });
}

export function toKoaHandler(spec: RouteSpec, deps: AppDeps) {
  // Throws for a route without a row in the permission table: such an API does not start.
  const access = accessOf(spec.method, spec.path);
  return async (ctx: ParameterizedContext) => {
    const em = deps.orm.em.fork();
    let auth: Auth | undefined;
    if (access !== 'public') {
      const result = await authenticate(em, ctx.get('authorization') || undefined);
      if (!result.ok) throw new HttpError(400, AUTH_MESSAGES[result.reason]);
      // The member's role as it is now: a role change applies to the member's existing keys at once.
      if (!allows(access, result.member.role)) throw new HttpError(403, forbiddenDetail(access, result.member.role));
      auth = { tenant: result.apiKey.tenant, apiKey: result.apiKey, member: result.member };
      em.setFilterParams(TENANT_FILTER, { tenantId: auth.tenant.id });
      ctx.state.tenantId = auth.tenant.id;
      await touchApiKey(em, result.apiKey);
    }
    await enforceRateLimits(ctx, spec, deps, em, auth);
    const params = spec.params ? validate(spec.params, ctx.params, 'path') : {};
    const query = spec.query ? validate(spec.query, camelizeKeys(ctx.query), 'query') : {};
    let body: unknown;
    let rawBody: string | undefined;
    let bodyStream: IncomingMessage | undefined;
    if (spec.body && spec.streamBody) {
      const limit = spec.bodyLimitBytes?.(deps.config) ?? deps.config.bodyLimitBytes;
      const type = ctx.request.type;
      // The unread body is discarded (not left on the socket), so the client gets this answer.
      if (type && type !== 'application/json' && !type.endsWith('+json')) {
        await discardRest(ctx, ctx.req, limit);
        throw new HttpError(415, `Unsupported Content-Type "${type}": send application/json`);
      }
      if (ctx.request.length > limit) {
        await discardRest(ctx, ctx.req, DISCARD_WHEN_REFUSED);
        throw new HttpError(413, `Request body exceeds the limit of ${limit} bytes`);
      }
      bodyStream = ctx.req;
    } else if (spec.body) {
      const read = await readJsonBody(ctx, spec.bodyLimitBytes?.(deps.config) ?? deps.config.bodyLimitBytes);
      rawBody = read.raw;
      // An empty body is `{}` (where the schema allows that, the body is optional); a JSON `null` is not.
      body = validate(spec.body, read.raw.trim() === '' ? {} : camelizeKeys(read.json), 'body', read.raw.includes('\\u0000'));
    }
    const result = await spec
      .handler({
        params,
        query,
        body,
        em,
        auth: auth as Auth,
        deps,
        log: ctx.state.log as Logger,
        requestId: ctx.state.requestId as string,
        headers: ctx.headers,
        rawBody,
        bodyStream,
      })
      .catch(async (err: unknown) => {
        if (bodyStream) {
          const limit = spec.bodyLimitBytes?.(deps.config) ?? deps.config.bodyLimitBytes;
          // A refusal before reading (413, 429) reads little more: the client should not upload it all first.
          const http = err instanceof DomainError ? toHttpError(err) : err;
          const refused = http instanceof HttpError && (http.status === 413 || http.status === 429);
          await discardRest(ctx, bodyStream, refused ? DISCARD_WHEN_REFUSED : limit);
        }
        throw err;
      });
    ctx.status = result.status ?? 200;
    ctx.body = result.body;
  };
}

export type { ApiKeyRole };
