import Koa from 'koa';
import Router from '@koa/router';
import type { AppDeps } from './context';
import { docsMiddleware } from './docs';
import { errorBodies, requestLog } from './middleware';
import { routerPath, toKoaHandler, type RouteSpec } from './route';
import { routes as allRoutes } from './routes';

export function createApp(deps: AppDeps, routes: RouteSpec[] = allRoutes) {
  const app = new Koa({ proxy: false });
  const router = new Router();
  for (const spec of routes) router[spec.method](routerPath(spec.path), toKoaHandler(spec, deps));
  app.use(requestLog(deps.logger));
  app.use(errorBodies());
  app.use(docsMiddleware(routes));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  // Koa would print every error to stderr a second time; errorBodies has already logged it.
  app.silent = true;
  return { app, router };
}
