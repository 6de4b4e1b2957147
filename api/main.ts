// The API process.
import { config } from '../config';
import { openOrm } from '../db/orm';
import { syncBaseModels } from '../domain/models/registry';
import { committedBaseModels } from '../models/serving/registry';
import { createLogger } from '../logger';
import { connectClient } from '../temporal/connection';
import { listen } from './server';

async function main() {
  const logger = createLogger('api');
  if (!config.databaseUrl || !config.temporalAddress) throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  const orm = await openOrm(config.databaseUrl);
  const models = await syncBaseModels(orm.em.fork(), committedBaseModels());
  logger.info({ models }, 'base models registered from their cards');
  const temporal = await connectClient(config.temporalAddress, config.temporalNamespace);
  const { server, url } = await listen({ orm, temporal, config, logger }, config.port, config.host);
  logger.info({ url }, 'api listening');
  const stop = () => {
    server.close(async () => {
      await temporal.connection.close();
      await orm.close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
