import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Orm } from '../db/orm';

/** What the API process shares between requests. */
export interface AppDeps {
  orm: Orm;
  temporal: Client;
  config: Config;
  logger: Logger;
}
