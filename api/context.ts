import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Orm } from '../db/orm';
import type { RateLimits } from './rate-limit';

/** What the API process shares between requests. */
export interface AppDeps {
  orm: Orm;
  temporal: Client;
  config: Config;
  logger: Logger;
  /** The per-key rate limits' shared store; `listen` opens one on the ORM's database when absent. */
  rateLimits?: RateLimits;
}
