// Every activity the worker runs, built from the dependencies the worker hands in (no module
// globals): activities stay thin over domain modules and tests can pass their own.
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm';
import type { DetectorRegistry } from '../domain/analysis/types';
import { createBatchActivities } from './batches';
import { createSessionActivities } from './sessions';

export interface ActivityDeps {
  orm: Orm;
  /** Which detector analyses a tenant's sessions. */
  detectors: DetectorRegistry;
  /** To tell session actors about sessions that batches rewrote. */
  temporal: Client;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createSessionActivities(deps), ...createBatchActivities(deps) };
}
