import type { RouteSpec } from '../route';
import { apiKeyRoutes } from './api-keys';
import { batchRoutes } from './batches';
import { healthRoutes } from './health';
import { modelRoutes } from './models';
import { sessionRoutes } from './sessions';

/** Every endpoint of the API. The router and the OpenAPI document are both built from this list. */
export const routes: RouteSpec[] = [...healthRoutes, ...apiKeyRoutes, ...sessionRoutes, ...batchRoutes, ...modelRoutes];
