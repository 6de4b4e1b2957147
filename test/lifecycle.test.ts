// Workflow lifecycles that need settings other than the shared test API's: a session actor that
// closes after its quiet period, and a batch that continues as new between chunks.
import assert from 'node:assert/strict';
import pino from 'pino';
import { listen } from '../api/server';
import { config } from '../config';
import { createTenantWithAdminKey } from '../domain/api-keys';
import { stageBatch } from '../domain/batches/staging';
import { startBatch } from '../temporal/batches';
import { batchWorkflowId } from '../workflows/batch/contract';
import { sessionWorkflowId } from '../workflows/session/contract';
import { stack } from './helpers/stack';

const kwh = (minute: number, v: number) => ({
  timestamp: new Date(Date.parse('2026-03-04T08:00:00Z') + minute * 60_000).toISOString(),
  value: v,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

describe('workflow lifecycles', function () {
  this.timeout(120_000);

  it('a session actor closes after its quiet period, and the next write starts a new run', async () => {
    const { orm, env, taskQueue } = stack();
    const api = await listen({ orm, temporal: env.client, config: { ...config, taskQueue, sessionQuietPeriodMs: 1500 }, logger: pino({ level: 'silent' }) }, 0, '127.0.0.1');
    try {
      const { key, tenant } = await createTenantWithAdminKey(orm.em.fork(), 'quiet');
      const post = (body: unknown, method = 'POST', p = '/v1/sessions') =>
        fetch(api.url + p, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await post({ sessionId: 'quiet-1', chargingStationId: 'CP-Q', meterValues: [kwh(0, 0), kwh(1, 0.2), kwh(2, 0.4)] })).status, 201);
      const handle = env.client.workflow.getHandle(sessionWorkflowId(tenant.id, 'quiet-1'));
      const first = await handle.describe();
      const result = await handle.result();
      assert.equal(result?.status, 'active', 'the run ended by itself with the last analysis');
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      assert.equal((await post({ meterValues: [kwh(3, 0.6)] }, 'PATCH', '/v1/sessions/quiet-1')).status, 200);
      const second = await env.client.workflow.getHandle(sessionWorkflowId(tenant.id, 'quiet-1')).describe();
      assert.notEqual(second.runId, first.runId, 'a new run of the same workflow id');
    } finally {
      await new Promise((r) => api.server.close(r));
    }
  });

  it('a batch continues as new between chunks and still processes every session once', async () => {
    const { orm, env, taskQueue } = stack();
    const { tenant } = await createTenantWithAdminKey(orm.em.fork(), 'can');
    const sessions = Array.from({ length: 50 }, (_, i) => ({ sessionId: `can-${i}`, chargingStationId: 'CP-CAN', meterValues: [kwh(0, 0), kwh(1, 0.2), kwh(2, 0.4)] }));
    const staged = await stageBatch(orm.em.fork(), { tenantId: tenant.id, sessions, idempotencyKey: null, requestHash: 'x' });
    assert.equal(staged.kind, 'created');
    if (staged.kind !== 'created') return;
    await startBatch(env.client, taskQueue, { tenantId: tenant.id, batchId: staged.batchId, totalSessions: 50, chunkSize: 5, parallelism: 2, chunksPerRun: 3 });
    const handle = env.client.workflow.getHandle(batchWorkflowId(tenant.id, staged.batchId));
    await handle.result();
    const [batch] = await orm.em.getConnection().execute('select status, processed_sessions from batches where id = ?', [staged.batchId]);
    assert.equal(batch.status, 'completed');
    assert.equal(batch.processed_sessions, 50);
    const { executions } = await env.client.workflowService.listWorkflowExecutions({
      namespace: env.namespace ?? 'default',
      query: `WorkflowId = '${batchWorkflowId(tenant.id, staged.batchId)}'`,
    });
    assert.ok((executions?.length ?? 0) >= 4, `10 chunks at 3 per run make at least 4 runs, saw ${executions?.length}`);
  });
});
