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
  return { server, url: `http://${host}:${actualPort}` };
}
