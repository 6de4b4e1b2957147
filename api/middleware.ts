import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors';
import { HttpError, toHttpError } from './http-error';

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
      const err = caught instanceof DomainError ? toHttpError(caught) : caught;
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = err.errors ? { detail: err.detail, errors: err.errors } : { detail: err.detail };
        if (err.headers) ctx.set(err.headers);
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
