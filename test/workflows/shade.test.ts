// The SHADE run workflow (workflows/shade/workflow.ts) with MOCKED activities on the run's dev
// server: the plan's stations are fanned out in chunks over parallel lanes, each station exactly
// once, the totals add up, the day is a search attribute; a run started by a schedule plans from
// the schedule's slot (TemporalScheduledStartTime); a chunk that fails is retried.
// RECORD_HISTORIES=1 also writes test/histories/shade-run-chunk-ranges.json (replayed by replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { deleteShadeSchedule, ensureShadeSchedule, SHADE_CATCHUP_WINDOW_MS, triggerShade } from '../../temporal/shade-schedules';
import { workflowBundle } from '../../worker/worker';
import { TENANT_ID } from '../../workflows/search-attributes';
import type { ShadeActivities, ShadeChunkInput, ShadePlanInput } from '../../workflows/shade/contract';
import { shadeScheduleId } from '../../workflows/shade/contract';
import { shadeRun } from '../../workflows/shade/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

// shade-run.json: a run from before chunk ranges (the shade-chunk-ranges patch), kept to replay.
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'shade-run-chunk-ranges.json');
const STATIONS = Array.from({ length: 7 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);

/** The stations a chunk input names: its ids, or the plan's stations in its id range. */
const idsOf = (c: ShadeChunkInput) =>
  'stationIds' in c ? c.stationIds : STATIONS.filter((id) => id >= c.fromStation && (c.untilStation === null || id < c.untilStation));

function mockActivities(opts: { failFirstAttemptOfChunk?: number; earlierRelease?: boolean } = {}) {
  const plans: ShadePlanInput[] = [];
  const chunks: (ShadeChunkInput & { attempt: number; ids: string[] })[] = [];
  const activities: ShadeActivities = {
    async planShadeRun(input) {
      plans.push(input);
      const plan = { day: input.day ?? '2026-03-09', timeZone: 'Europe/Amsterdam' };
      // A worker of the earlier release ignores chunkSize and lists the ids.
      if (input.chunkSize === undefined || opts.earlierRelease) return { ...plan, stationIds: STATIONS };
      return { ...plan, stations: STATIONS.length, chunkStarts: STATIONS.filter((_, i) => i % input.chunkSize! === 0) };
    },
    async runShadeChunk(input) {
      const ctx = Context.current();
      const ids = idsOf(input);
      chunks.push({ ...input, attempt: ctx.info.attempt, ids });
      ctx.heartbeat(0);
      if (opts.failFirstAttemptOfChunk !== undefined && ids[0] === STATIONS[opts.failFirstAttemptOfChunk] && ctx.info.attempt === 1) {
        throw new Error('database went away');
      }
      // One anomalous station per chunk, one event each.
      return { stations: ids.length, stored: ids.length, anomalous: 1, events: 1 };
    },
  };
  return { activities, plans, chunks };
}

let n = 0;
describe('SHADE run workflow with mocked activities', function () {
  this.timeout(60_000);

  it('fans the plan out in chunks over parallel lanes; RECORD_HISTORIES=1 commits the history', async () => {
    const mock = mockActivities();
    await withMockedWorker('shade', mock.activities, async (taskQueue) => {
      const tenantId = `wf-shade-${process.pid}-${++n}`;
      const handle = await stack().env.client.workflow.start(shadeRun, {
        workflowId: `shade/${tenantId}-manual`,
        taskQueue,
        args: [{ tenantId, day: '2026-03-10', chunkSize: 3, parallelism: 2 }],
        typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
      });
      const result = await handle.result();
      assert.deepEqual(result, { day: '2026-03-10', timeZone: 'Europe/Amsterdam', stations: 7, chunks: 3, stored: 7, anomalous: 3, events: 3 });
      assert.deepEqual(mock.plans.map((p) => [p.tenantId, p.day, p.chunkSize]), [[tenantId, '2026-03-10', 3]]);
      assert.ok(mock.chunks.every((c) => !('stationIds' in c)), 'chunks are ranges of ids, not lists');
      assert.deepEqual(mock.chunks.map((c) => c.ids.length).sort(), [1, 3, 3]);
      assert.deepEqual(mock.chunks.flatMap((c) => c.ids).sort(), STATIONS, 'every station exactly once');
      assert.ok(mock.chunks.every((c) => c.day === '2026-03-10' && c.timeZone === 'Europe/Amsterdam' && c.tenantId === tenantId));
      const desc = await handle.describe();
      assert.deepEqual(desc.searchAttributes.EvniShadeDay, ['2026-03-10']);
      assert.deepEqual(desc.searchAttributes.EvniTenantId, [tenantId]);

      const json = historyToJSON(await handle.fetchHistory());
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it('a run started by the schedule plans from its slot (the previous local day is the activity\'s to find)', async () => {
    const mock = mockActivities();
    await withMockedWorker('shade-schedule', mock.activities, async (taskQueue) => {
      const tenantId = `wf-shade-${process.pid}-${++n}`;
      const { client } = stack().env;
      assert.equal(await ensureShadeSchedule(client, taskQueue, tenantId, 'Europe/Amsterdam'), 'created');
      assert.equal(await ensureShadeSchedule(client, taskQueue, tenantId, 'Europe/Amsterdam'), 'unchanged');
      assert.equal(await ensureShadeSchedule(client, taskQueue, tenantId, 'America/New_York'), 'updated');
      try {
        const before = Date.now();
        await triggerShade(client, tenantId);
        const handle = client.schedule.getHandle(shadeScheduleId(tenantId));
        const workflowId = await waitFor('the run', async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId);
        const result = await client.workflow.getHandle<typeof shadeRun>(workflowId).result();
        assert.equal(result.day, '2026-03-09');
        assert.equal(mock.plans.length, 1);
        assert.equal(mock.plans[0].day, undefined);
        const slot = Date.parse(mock.plans[0].scheduledAt);
        assert.ok(slot >= before - 2_000 && slot <= Date.now(), `the trigger's time: ${mock.plans[0].scheduledAt}`);
        assert.equal(mock.chunks.length, 1, 'one chunk of the default size');
      } finally {
        await deleteShadeSchedule(client, tenantId);
      }
    });
  });

  it('a schedule made by another release (another run time, no definition) is brought up to date once', async () => {
    const { client } = stack().env;
    const tenantId = `wf-shade-${process.pid}-${++n}`;
    const taskQueue = `wf-test-shade-old-${process.pid}`;
    await client.schedule.create({
      scheduleId: shadeScheduleId(tenantId),
      spec: { calendars: [{ hour: 2, minute: 45 }], timezone: 'UTC' },
      action: { type: 'startWorkflow', workflowType: shadeRun, workflowId: shadeScheduleId(tenantId), taskQueue, args: [{ tenantId }] },
      state: { paused: true },
    });
    try {
      assert.equal(await ensureShadeSchedule(client, taskQueue, tenantId, 'UTC'), 'updated');
      const desc = await client.schedule.getHandle(shadeScheduleId(tenantId)).describe();
      const at = desc.spec.calendars?.[0] as { hour?: { start: number }[]; minute?: { start: number }[] };
      assert.deepEqual([at.hour?.[0].start, at.minute?.[0].start], [0, 15], 'the run time of this release');
      assert.equal(desc.policies.catchupWindow, SHADE_CATCHUP_WINDOW_MS);
      assert.equal(await ensureShadeSchedule(client, taskQueue, tenantId, 'UTC'), 'unchanged');
    } finally {
      await deleteShadeSchedule(client, tenantId);
    }
  });

  it('a plan made by a worker of the earlier release (ids, no chunk starts) still runs every station', async () => {
    const mock = mockActivities({ earlierRelease: true });
    await withMockedWorker('shade-rolling', mock.activities, async (taskQueue) => {
      const tenantId = `wf-shade-${process.pid}-${++n}`;
      const result = await stack().env.client.workflow.execute(shadeRun, { workflowId: `shade/${tenantId}-rolling`, taskQueue, args: [{ tenantId, day: '2026-03-10', chunkSize: 3 }] });
      assert.deepEqual([result.stations, result.chunks, result.stored], [7, 3, 7]);
      assert.deepEqual(mock.chunks.flatMap((c) => c.ids).sort(), STATIONS);
    });
  });

  it('retries a chunk whose activity failed, without running the other chunks again', async () => {
    const mock = mockActivities({ failFirstAttemptOfChunk: 3 });
    await withMockedWorker('shade-retry', mock.activities, async (taskQueue) => {
      const tenantId = `wf-shade-${process.pid}-${++n}`;
      const result = await stack().env.client.workflow.execute(shadeRun, { workflowId: `shade/${tenantId}-retry`, taskQueue, args: [{ tenantId, day: '2026-03-10', chunkSize: 3, parallelism: 1 }] });
      assert.equal(result.stored, 7);
      assert.deepEqual(mock.chunks.map((c) => [c.ids[0], c.attempt]), [
        [STATIONS[0], 1],
        [STATIONS[3], 1],
        [STATIONS[3], 2],
        [STATIONS[6], 1],
      ]);
    });
  });
});
