import type { Server } from 'node:http';
import type { AppDeps } from './context';
import { createApp } from './app';

export async function listen(deps: AppDeps, port: number, host: string): Promise<{ server: Server; url: string }> {
  const { app } = createApp(deps);
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  server.keepAliveTimeout = 65_000;
  // Node's default (300 s for a whole request) would cut off a large batch upload mid-transaction:
  // a 100,000-session submit takes about 100 s here while the API parses and stages as it reads.
  server.requestTimeout = 30 * 60_000;
  return { server, url: `http://${host}:${actualPort}` };
}
