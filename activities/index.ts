import type { Orm } from '../db/orm';

/** Everything activities need from the worker process; activities are thin over domain modules. */
export interface ActivityDeps {
  orm: Orm;
}

export function createActivities(_deps: ActivityDeps) {
  return {};
}
