// The data-quality workflow (workflows/data-quality/workflow.ts) with MOCKED activities on the run's
// dev server: every tenant refreshed once at the run's one instant, in chunks, a few chunks at a
// time; a failing tenant or chunk does not stop the others and fails the run naming it (the
// schedule's next run retries).
// RECORD_HISTORIES=1 also writes test/histories/data-quality.json (replayed by replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../worker/worker';
import type { StatisticsActivities, TenantsRefreshInput } from '../../workflows/data-quality/contract';
import { dataQualityWorkflow } from '../../workflows/data-quality/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';

const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'data-quality.json');

function mockActivities(tenants: string[], failing: string[] = [], crashing: string[] = []) {
  const calls: TenantsRefreshInput[] = [];
  let running = 0;
  let maxRunning = 0;
  const activities: StatisticsActivities = {
    async listStatisticsTenants() {
      return tenants;
    },
    async refreshTenantsStatistics(input) {
      calls.push(input);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
      if (input.tenantIds.some((t) => crashing.includes(t))) throw ApplicationFailure.nonRetryable(`chunk with ${input.tenantIds.join(',')} broke`);
      const failed = input.tenantIds.filter((t) => failing.includes(t));
      return { energyFilled: 10 * (input.tenantIds.length - failed.length), failed };
    },
  };
  const refreshed = () => calls.flatMap((c) => c.tenantIds);
  return { activities, calls, refreshed, maxRunning: () => maxRunning };
}

let n = 0;
const workflowId = () => `wf-test-data-quality-${process.pid}-${++n}`;

describe('data-quality workflow with mocked activities', function () {
  this.timeout(60_000);

  it('refreshes every tenant once at one instant, in chunks on two lanes; RECORD_HISTORIES=1 commits the history', async () => {
    const tenants = ['t1', 't2', 't3', 't4', 't5'];
    const mock = mockActivities(tenants);
    await withMockedWorker('data-quality', mock.activities, async (taskQueue) => {
      const handle = await stack().env.client.workflow.start(dataQualityWorkflow, { workflowId: workflowId(), taskQueue, args: [{ chunkSize: 2 }] });
      const result = await handle.result();
      assert.equal(result.tenants, 5);
      assert.equal(result.energyFilled, 50);
      assert.deepEqual(mock.refreshed().sort(), tenants);
      assert.deepEqual(mock.calls.map((c) => c.tenantIds.length).sort(), [1, 2, 2], 'chunks of two');
      assert.equal(new Set(mock.calls.map((c) => c.at)).size, 1, 'one instant for the whole run');
      assert.equal(mock.calls[0].at, result.at);
      assert.equal(mock.maxRunning(), 2, 'two lanes by default');

      const json = historyToJSON(await handle.fetchHistory());
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it('a failing tenant or a failed chunk does not stop the others; the run fails naming them', async () => {
    const mock = mockActivities(['a', 'b', 'c', 'd', 'e'], ['b'], ['e']);
    await withMockedWorker('data-quality', mock.activities, async (taskQueue) => {
      const handle = await stack().env.client.workflow.start(dataQualityWorkflow, { workflowId: workflowId(), taskQueue, args: [{ parallelism: 1, chunkSize: 2 }] });
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(String((err.cause as Error).message), /failed for 2 of 5 tenants: b, e/);
        return true;
      });
      assert.deepEqual(mock.refreshed(), ['a', 'b', 'c', 'd', 'e'], 'one lane: in order, c and d after the failed b');
      assert.equal(mock.maxRunning(), 1);
    });
  });

  it('no tenants: nothing to do', async () => {
    const mock = mockActivities([]);
    await withMockedWorker('data-quality', mock.activities, async (taskQueue) => {
      const result = await stack().env.client.workflow.execute(dataQualityWorkflow, { workflowId: workflowId(), taskQueue, args: [{}] });
      assert.deepEqual({ tenants: result.tenants, energyFilled: result.energyFilled }, { tenants: 0, energyFilled: 0 });
    });
  });
});
