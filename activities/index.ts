import type { Orm } from '../db/orm';
import { servedDetector } from '../models/serving/onnx-detector';
import { createBatchActivities } from './batches';
import { createSessionActivities } from './sessions';

/** Everything activities need from the worker process; activities are thin over domain modules. */
export interface ActivityDeps {
  orm: Orm;
}

export function createActivities(deps: ActivityDeps) {
  // Load the ONNX models while the worker starts, not on the first session a client is waiting for.
  servedDetector().catch(() => undefined); // a load error surfaces (and is retried) at first use
  return { ...createSessionActivities(deps.orm), ...createBatchActivities(deps.orm) };
}
