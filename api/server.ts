import type { Server } from 'node:http';
import type { AppDeps } from './context';
import { createApp } from './app';
import { RateLimits } from './rate-limit';

export async function listen(deps: AppDeps, port: number, host: string): Promise<{ server: Server; url: string }> {
  // The rate limits count in the ORM's database, through a small pool of their own that closes
  // with the server (unless the caller brought its own store, which it closes itself).
  const ownStore = deps.rateLimits ? undefined : RateLimits.open(deps.orm.config.get('clientUrl')!, deps.logger);
  const { app } = createApp(ownStore ? { ...deps, rateLimits: ownStore } : deps);
  const server = app.listen(port, host);
  if (ownStore) server.once('close', () => void ownStore.close().catch((err) => deps.logger.warn({ err }, 'closing the rate limit store failed')));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (err: unknown) => {
    await ownStore?.close().catch(() => undefined);
    throw err;
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  server.keepAliveTimeout = 65_000;
  // Node's default (300 s for a whole request) would cut off a large batch upload mid-transaction:
  // a 100,000-session submit takes about 100 s here while the API parses and stages as it reads.
  server.requestTimeout = 30 * 60_000;
  return { server, url: `http://${host}:${actualPort}` };
}
