import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors';
import { databaseUnavailable, HttpError, toHttpError } from './http-error';
import { allowHeader, resolveResource, type Resource } from './route';

/** One JSON log line per request, and a request id that is echoed back and put on every log line. */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          durationMs: Math.round(durationMs * 10) / 10,
          tenantId: ctx.state.tenantId ?? null,
        },
        'request',
      );
    }
  };
}

/** Every failure becomes `{"detail": …}`; unexpected ones are logged with the request id, never sent. */
export function errorBodies(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { detail: `No route for ${ctx.method} ${ctx.path}` };
      }
    } catch (caught) {
      const err = caught instanceof DomainError ? toHttpError(caught) : (databaseUnavailable(caught) ?? caught);
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = err.errors ? { detail: err.detail, errors: err.errors } : { detail: err.detail };
        if (err.headers) ctx.set(err.headers);
        if (err.status === 503) (ctx.state.log as Logger | undefined)?.warn({ err: caught }, err.detail);
        return;
      }
      const e = err as { status?: number; expose?: boolean; message?: string };
      // Koa and the router throw http-errors (e.g. 405); keep their status and their safe message.
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
        ctx.status = e.status;
        ctx.body = { detail: e.message };
        return;
      }
      const log = (ctx.state.log as Logger | undefined) ?? undefined;
      log?.error({ err }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { detail: `Internal server error (request id ${ctx.state.requestId})` };
    }
  };
}

/** The methods some resource of this server answers; any other method on an unknown path is a 501. */
const IMPLEMENTED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * After the router, for a request no route took: a path that names a resource answers OPTIONS with
 * 204 and any other method with 405, both with the `Allow` header RFC 9110 requires (TRACE, QUERY,
 * PROPFIND … included: the resource exists, the method is not allowed on it); an unknown path is a
 * 404, or a 501 for a method the server implements nowhere.
 */
export function methodNotAllowed(resources: Resource[]): Middleware {
  return async (ctx) => {
    const resource = resolveResource(resources, ctx.path);
    if (!resource) {
      if (!IMPLEMENTED_METHODS.has(ctx.method)) throw new HttpError(501, `The ${ctx.method} method is not implemented by this server`);
      return;
    }
    const allow = allowHeader(resource);
    if (ctx.method === 'OPTIONS') {
      ctx.set('Allow', allow);
      ctx.status = 204;
      return;
    }
    throw new HttpError(405, `${ctx.method} is not allowed on ${resource.path}; allowed: ${allow}`, undefined, { Allow: allow });
  };
}
