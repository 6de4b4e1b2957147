import Koa from 'koa';
import Router from '@koa/router';
import type { AppDeps } from './context';
import { DOC_RESOURCES, docsMiddleware } from './docs';
import { errorBodies, methodNotAllowed, requestLog } from './middleware';
import { resolveResource, resourcesOf, routerPath, toKoaHandler, type RouteSpec } from './route';
import { routes as allRoutes } from './routes';

export function createApp(deps: AppDeps, routes: RouteSpec[] = allRoutes) {
  const app = new Koa({ proxy: false });
  const router = new Router();
  const resources = resourcesOf(routes, DOC_RESOURCES);
  for (const spec of routes) {
    const handler = toKoaHandler(spec, deps);
    // The router would hand `/v1/sessions/batch` to `/v1/sessions/{session_id}` too: a route runs
    // only for the resource the path resolves to (a literal segment beats a parameter), otherwise
    // the request goes on (to a 405 naming what the resource allows).
    router[spec.method](routerPath(spec.path), (ctx, next) => (resolveResource(resources, ctx.path)?.path === spec.path ? handler(ctx) : next()));
  }
  app.use(requestLog(deps.logger));
  app.use(errorBodies());
  app.use(docsMiddleware(routes));
  app.use(router.routes());
  // Methods a resource does not answer: 405 with Allow (OPTIONS: 204 with Allow); a method the
  // server implements nowhere on an unknown path: 501. Never the router's unmapped errors.
  app.use(methodNotAllowed(resources));
  // Koa would print every error to stderr a second time; errorBodies has already logged it.
  app.silent = true;
  return { app, router };
}
