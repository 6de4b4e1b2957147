import type { RouteSpec } from '../route';
import { anomalyRoutes } from './anomalies';
import { apiKeyRoutes } from './api-keys';
import { batchRoutes } from './batches';
import { explanationRoutes } from './explanations';
import { healthRoutes } from './health';
import { memberRoutes } from './members';
import { modelRoutes } from './models';
import { organizationRoutes } from './organization';
import { sessionRoutes } from './sessions';
import { statisticsRoutes } from './statistics';
import { stationRoutes } from './stations';
import { webhookRoutes } from './webhooks';

/** Every endpoint of the API. The router and the OpenAPI document are both built from this list. */
export const routes: RouteSpec[] = [...healthRoutes, ...organizationRoutes, ...memberRoutes, ...apiKeyRoutes, ...sessionRoutes, ...batchRoutes, ...explanationRoutes, ...modelRoutes, ...webhookRoutes, ...statisticsRoutes, ...stationRoutes, ...anomalyRoutes];
