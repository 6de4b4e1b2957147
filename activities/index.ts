import type { Orm } from '../db/orm';
import { createBatchActivities } from './batches';
import { createSessionActivities } from './sessions';

/** Everything activities need from the worker process; activities are thin over domain modules. */
export interface ActivityDeps {
  orm: Orm;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createSessionActivities(deps.orm), ...createBatchActivities(deps.orm) };
}
