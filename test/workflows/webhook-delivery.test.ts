// The webhook delivery workflow (workflows/webhook-delivery/workflow.ts) with MOCKED activities on
// the run's dev server: retries follow each failure's own next delay, the last failure records the
// delivery as failed and fails the workflow, 410 and a vanished delivery stop at once. Deliveries
// start the way the dispatcher starts them: `startWebhookDelivery` (a second start is harmless).
// RECORD_HISTORIES=1 also writes test/histories/webhook-delivery.json (replayed by replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { startWebhookDelivery } from '../../temporal/webhooks';
import { workflowBundle } from '../../worker/worker';
import { DELIVERY_FAILURES, webhookDeliveryWorkflowId, type WebhookActivities, type WebhookDeliveryInput } from '../../workflows/webhook-delivery/contract';
import type { webhookDelivery } from '../../workflows/webhook-delivery/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';

const TENANT = `wf-test-tenant-${process.pid}`;
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'webhook-delivery.json');

/** Attempts answer from `script` in turn ('ok', 'fail', 'gone', 'cancelled'); the last entry repeats. */
function mockActivities(script: ('ok' | 'fail' | 'gone' | 'cancelled')[]) {
  const attempts: { attempt: number; at: number }[] = [];
  const failed: { deliveryId: string; reason: string }[] = [];
  const activities: WebhookActivities = {
    async attemptWebhookDelivery(input) {
      const attempt = Context.current().info.attempt;
      attempts.push({ attempt, at: Date.now() });
      const step = script[Math.min(attempt - 1, script.length - 1)];
      if (step === 'ok') return { status: 'delivered', httpStatus: 204, attempt };
      if (step === 'gone') throw ApplicationFailure.create({ type: DELIVERY_FAILURES.gone, message: 'HTTP 410 Gone', nonRetryable: true });
      if (step === 'cancelled') throw ApplicationFailure.create({ type: DELIVERY_FAILURES.cancelled, message: 'deleted', nonRetryable: true });
      throw ApplicationFailure.create({ type: DELIVERY_FAILURES.failed, message: `attempt ${attempt}: HTTP 500`, nextRetryDelay: input.retryDelaysMs[attempt - 1] });
    },
    async failWebhookDelivery(input) {
      failed.push({ deliveryId: input.deliveryId, reason: input.reason });
    },
  };
  return { activities, attempts, failed };
}

let n = 0;
async function start(taskQueue: string, retryDelaysMs: number[]) {
  const input: WebhookDeliveryInput = {
    tenantId: TENANT,
    deliveryId: `d-${process.pid}-${++n}-${Date.now()}`,
    endpointId: 'ep-1',
    eventType: 'session.anomaly_detected',
    retryDelaysMs,
    retryAfterCapMs: 1_000,
    timeoutMs: 1_000,
  };
  await startWebhookDelivery(stack().env.client, taskQueue, input);
  await startWebhookDelivery(stack().env.client, taskQueue, input); // harmless
  return { input, handle: stack().env.client.workflow.getHandle<typeof webhookDelivery>(webhookDeliveryWorkflowId(TENANT, input.deliveryId)) };
}

describe('webhook delivery workflow with mocked activities', function () {
  this.timeout(60_000);

  it('retries failed attempts with the delay each failure names, then delivers; RECORD_HISTORIES=1 commits the history', async () => {
    const mock = mockActivities(['fail', 'fail', 'ok']);
    await withMockedWorker('webhook', mock.activities, async (tq) => {
      const { handle } = await start(tq, [100, 600, 100]);
      assert.deepEqual(await handle.result(), { status: 'delivered', httpStatus: 204, attempts: 3 });
      assert.deepEqual(mock.attempts.map((a) => a.attempt), [1, 2, 3]);
      assert.ok(mock.attempts[2].at - mock.attempts[1].at >= 550, 'the second wait is the schedule\'s second delay');
      assert.equal(mock.failed.length, 0);
      const desc = await handle.describe();
      assert.equal(desc.searchAttributes.EvniWebhookEndpointId?.[0], 'ep-1');
      assert.equal(desc.searchAttributes.EvniWebhookEventType?.[0], 'session.anomaly_detected');

      const json = historyToJSON(await handle.fetchHistory());
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it('after the last failed attempt the delivery is recorded as failed and the workflow fails', async () => {
    const mock = mockActivities(['fail']);
    await withMockedWorker('webhook', mock.activities, async (tq) => {
      const { input, handle } = await start(tq, [50, 50]);
      const err = await handle.result().then(() => assert.fail('should fail'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, String(err));
      assert.equal(mock.attempts.length, 3, 'one attempt more than there are delays');
      assert.equal(mock.failed.length, 1);
      assert.equal(mock.failed[0].deliveryId, input.deliveryId);
      assert.match(mock.failed[0].reason, /attempt 3: HTTP 500/);
    });
  });

  it('410 Gone stops at once (no failure run: the attempt disabled the endpoint); a deleted delivery ends quietly', async () => {
    const gone = mockActivities(['fail', 'gone']);
    await withMockedWorker('webhook', gone.activities, async (tq) => {
      const { handle } = await start(tq, [50, 50, 50, 50]);
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal(gone.attempts.length, 2);
      assert.equal(gone.failed.length, 0);
    });
    const cancelled = mockActivities(['fail', 'cancelled']);
    await withMockedWorker('webhook', cancelled.activities, async (tq) => {
      const { handle } = await start(tq, [50, 50, 50]);
      assert.deepEqual(await handle.result(), { status: 'cancelled' });
      assert.equal(cancelled.attempts.length, 2);
    });
  });
});
