import { defineRoute } from '../route';
import { z } from '../zod';

const Checks = z.record(z.string(), z.string());
const Health = z.object({ status: z.string(), checks: Checks.optional() }).openapi('Health');
const NotReady = z.object({ detail: z.string(), checks: Checks }).openapi('NotReady');

export const healthRoutes = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    description: 'The API process is up. Checks nothing else.',
    tags: ['Health'],
    responses: { 200: { description: 'Process up', schema: Health } },
    handler: async () => ({ body: { status: 'ok' } }),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness',
    description: 'PostgreSQL and Temporal are reachable from this API process.',
    tags: ['Health'],
    responses: {
      200: { description: 'Ready', schema: Health },
      503: { description: 'A dependency is unreachable', schema: NotReady },
    },
    handler: async ({ em, deps }) => {
      const checks: Record<string, string> = {};
      const probe = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timed out after 2 s')), 2000))]);
          checks[name] = 'ok';
        } catch (err) {
          checks[name] = `unreachable: ${(err as Error).message}`;
        }
      };
      await Promise.all([
        probe('postgres', () => em.getConnection().execute('select 1')),
        probe('temporal', () => deps.temporal.workflowService.getSystemInfo({})),
      ]);
      const ready = Object.values(checks).every((c) => c === 'ok');
      if (ready) return { body: { status: 'ready', checks } };
      const failing = Object.entries(checks).filter(([, c]) => c !== 'ok').map(([n, c]) => `${n} ${c}`);
      return { status: 503, body: { detail: `Not ready: ${failing.join('; ')}`, checks } };
    },
  }),
];
