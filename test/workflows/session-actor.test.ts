// The session actor (workflows/session/workflow.ts) with MOCKED activities, in the Temporal samples'
// style: the test run's dev server (stack().env), a worker of our own on its own task queue running
// the real workflow bundle, activities that are plain objects recording their calls. Writes go in
// the way production sends them: `sendSessionWrite` (update-with-start of `sessionActor`).
// RECORD_HISTORIES=1 also writes test/histories/session-actor-quiet-deadline.json (see replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { sendSessionWrite, type ActorAddress } from '../../temporal/sessions';
import { workflowBundle } from '../../worker/worker';
import {
  lastAnalysisQuery,
  refreshSignal,
  SESSION_SEARCH_ATTRIBUTES as ATTR,
  sessionWorkflowId,
  type SessionActivities,
  type SessionView,
  type WriteKind,
} from '../../workflows/session/contract';
import type { sessionActor } from '../../workflows/session/workflow';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

const TENANT = `wf-test-tenant-${process.pid}`;
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'session-actor-quiet-deadline.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A session view as the real activity would return it (no `metadata`: it is left out of history when large). */
function view(over: Partial<SessionView> = {}): SessionView {
  return {
    sessionId: 'mock',
    chargingStationId: 'CP-A',
    connectorId: '1',
    evseId: null,
    status: 'active',
    isAnomaly: false,
    anomalyScore: 0.12,
    anomalyConfidence: 0.9,
    anomalyCount: 0,
    isIncident: false,
    isRecurring: false,
    anomalies: [],
    analyzedAt: '2026-03-01T08:05:00.000Z',
    socReconstructed: false,
    message: null,
    stopReason: null,
    clientStatus: 'active',
    readingCount: 3,
    createdAt: '2026-03-01T08:00:00.000Z',
    ...over,
  };
}

interface WriteCall {
  writeId: string;
  tenantId: string;
  sessionDbId: string;
  start: number;
  end: number;
}

/** Mocked `SessionActivities`: answers each write id with its scripted view, records every call. */
function mockActivities(opts: { views?: Record<string, SessionView | null>; delayMs?: number } = {}) {
  const views = new Map(Object.entries(opts.views ?? {}));
  const writes: WriteCall[] = [];
  const reads: { tenantId: string; sessionDbId: string }[] = [];
  const state = { stored: null as SessionView | null, running: 0, maxRunning: 0 };
  const activities: SessionActivities = {
    async applyWriteAndAnalyse({ tenantId, writeId, sessionDbId }) {
      const call: WriteCall = { writeId, tenantId, sessionDbId, start: performance.now(), end: NaN };
      writes.push(call);
      state.maxRunning = Math.max(state.maxRunning, ++state.running);
      try {
        if (opts.delayMs) await sleep(opts.delayMs);
        if (!views.has(writeId)) throw new Error(`unexpected write ${writeId}`);
        return views.get(writeId) ?? null;
      } finally {
        state.running--;
        call.end = performance.now();
      }
    },
    async readSessionView(input) {
      reads.push(input);
      return state.stored;
    },
  };
  return { activities, views, writes, reads, state };
}

/** A worker of our own (own task queue, mocked activities) around `fn`. */
const withWorker = <T>(activities: SessionActivities, fn: (taskQueue: string) => Promise<T>) => withMockedWorker('session', activities, fn);

const opened: WorkflowHandle[] = [];
function actor(taskQueue: string, name: string, quietPeriodMs = 60_000) {
  const sessionId = `${name}-${Date.now()}`;
  const address: ActorAddress = { taskQueue, quietPeriodMs, tenantId: TENANT, sessionDbId: `db-${sessionId}`, sessionId, stationId: 'CP-A' };
  const handle = stack().env.client.workflow.getHandle<typeof sessionActor>(sessionWorkflowId(TENANT, sessionId));
  opened.push(handle);
  const write = (writeId: string, kind: WriteKind = 'append', readingCount = 1) =>
    sendSessionWrite(stack().env.client, address, { writeId, kind, readingCount });
  return { address, handle, write };
}

type HistoryEvent = Record<string, any> & { eventType: string; eventTime: string };
async function historyJson(handle: WorkflowHandle): Promise<string> {
  return historyToJSON(await handle.fetchHistory());
}
const eventsOf = (json: string): HistoryEvent[] => JSON.parse(json).events;
const ofType = (events: HistoryEvent[], type: string) => events.filter((e) => e.eventType === `EVENT_TYPE_${type}`);
const upsertedNames = (e: HistoryEvent) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes.indexedFields).sort();
/** The actor's own upserts (`patched()` also upserts the SDK's `TemporalChangeVersion` once per run). */
const actorUpserts = (events: HistoryEvent[]) =>
  ofType(events, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').filter((e) => upsertedNames(e).some((n) => n.startsWith('Evni')));
/** The write ids of the run's accepted updates, in the order the workflow accepted them. */
const acceptedWriteIds = (events: HistoryEvent[]) =>
  ofType(events, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').map((e) => {
    const payload = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0];
    return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')).writeId as string;
  });

async function attributes(handle: WorkflowHandle) {
  const sa = (await handle.describe()).typedSearchAttributes;
  return { tenant: sa.get(ATTR.tenant), station: sa.get(ATTR.station), isAnomaly: sa.get(ATTR.isAnomaly), anomalyScore: sa.get(ATTR.anomalyScore) };
}

describe('session actor with mocked activities', function () {
  this.timeout(60_000);

  afterEach(async () => {
    // Nothing of a test outlives it (long quiet periods would keep runs open on the dev server).
    await Promise.all(opened.splice(0).map((h) => h.terminate('test over').catch(() => undefined)));
  });

  it('applies concurrent writes one at a time in arrival order, each answered with its own view', async () => {
    const ids = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
    const views = Object.fromEntries(ids.map((id, i) => [id, view({ message: `after ${id}`, readingCount: 3 + i })]));
    const mock = mockActivities({ views, delayMs: 120 });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write, address } = actor(tq, 'order');
      const answers = await Promise.all(ids.map((id) => write(id)));
      answers.forEach((answer, i) => assert.deepEqual(answer, views[ids[i]], `the answer to ${ids[i]}`));

      assert.equal(mock.state.maxRunning, 1, 'never two writes at once');
      for (let i = 1; i < mock.writes.length; i++) {
        assert.ok(mock.writes[i].start >= mock.writes[i - 1].end, `${mock.writes[i].writeId} started after ${mock.writes[i - 1].writeId} ended`);
      }
      const events = eventsOf(await historyJson(handle));
      assert.deepEqual(mock.writes.map((w) => w.writeId), acceptedWriteIds(events), 'applied in the order the actor accepted them');
      assert.deepEqual([...mock.writes.map((w) => w.writeId)].sort(), ids, 'each write applied exactly once');
      for (const w of mock.writes) assert.deepEqual([w.tenantId, w.sessionDbId], [TENANT, address.sessionDbId]);
      assert.deepEqual(await handle.query(lastAnalysisQuery), views[mock.writes.at(-1)!.writeId]);
    });
  });

  it('rejects a write without a writeId in its validator: nothing applied, nothing in history', async () => {
    const mock = mockActivities({ views: { w1: view() } });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'validator');
      await write('w1', 'create', 3);
      await assert.rejects(write(''), (err: unknown) => err instanceof WorkflowUpdateFailedError);
      assert.deepEqual(mock.writes.map((w) => w.writeId), ['w1']);
      assert.deepEqual(acceptedWriteIds(eventsOf(await historyJson(handle))), ['w1'], 'a rejected update leaves no trace in history');
      assert.deepEqual(await handle.query(lastAnalysisQuery), view());
    });
  });

  it('sets the verdict search attributes, and upserts only what changed', async () => {
    const mock = mockActivities({
      views: {
        pending: view({ status: 'pending', isAnomaly: null, anomalyScore: null, readingCount: 2 }),
        first: view({ isAnomaly: true, anomalyScore: 0.81 }),
        same: view({ isAnomaly: true, anomalyScore: 0.81, readingCount: 4 }),
        rescored: view({ isAnomaly: true, anomalyScore: 0.9, readingCount: 5 }),
        moved: view({ isAnomaly: true, anomalyScore: 0.9, chargingStationId: 'CP-B', readingCount: 6 }),
      },
    });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'attrs');
      const upserts = async () => actorUpserts(eventsOf(await historyJson(handle)));

      await write('pending', 'create', 2);
      assert.equal((await upserts()).length, 0, 'a pending view has no verdict to show, and the station is as started');
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-A', isAnomaly: undefined, anomalyScore: undefined });

      await write('first');
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-A', isAnomaly: true, anomalyScore: 0.81 });
      let events = await upserts();
      assert.equal(events.length, 1);
      assert.deepEqual(upsertedNames(events[0]), ['EvniAnomalyScore', 'EvniIsAnomaly']);

      await write('same');
      assert.equal((await upserts()).length, 1, 'the same verdict again upserts nothing');

      await write('rescored');
      events = await upserts();
      assert.equal(events.length, 2, 'a changed verdict upserts again');
      assert.deepEqual(upsertedNames(events[1]), ['EvniAnomalyScore'], 'only the score changed');
      assert.equal((await attributes(handle)).anomalyScore, 0.9);

      await write('moved');
      events = await upserts();
      assert.equal(events.length, 3);
      assert.deepEqual(upsertedNames(events[2]), ['EvniChargingStationId'], 'only the station changed');
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-B', isAnomaly: true, anomalyScore: 0.9 });
    });
  });

  it('ends by itself after the quiet period with the last view; writes move one deadline, not a timer each', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `q${i}`);
    const views = Object.fromEntries(ids.map((id, i) => [id, view({ readingCount: 3 + i, message: id })]));
    const mock = mockActivities({ views });
    const quietPeriodMs = 1500;
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'quiet', quietPeriodMs);
      // One write every 200 ms: the writes span more than a quiet period, no gap is one.
      for (const id of ids) {
        await write(id);
        await sleep(200);
      }
      const result = await handle.result();
      assert.deepEqual(result, views[ids.at(-1)!], 'the last view is the result');

      const events = eventsOf(await historyJson(handle));
      assert.equal(ofType(events, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, ids.length, 'every write went to this one run');
      const timers = ofType(events, 'TIMER_STARTED').length;
      assert.ok(timers <= 3, `${timers} timers for ${ids.length} writes (one deadline, re-armed only when it passed)`);
      assert.equal(ofType(events, 'TIMER_CANCELED').length, 0, 'no timer cancelled per write');
      // The workflow's clock read at the last write lies between the start of its workflow task and
      // the write's completion: the run must not have ended before that plus the quiet period.
      const at = (e: HistoryEvent) => Date.parse(e.eventTime);
      const lastDone = events.lastIndexOf(ofType(events, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').at(-1)!);
      const lastWrite = at(ofType(events.slice(0, lastDone), 'WORKFLOW_TASK_STARTED').at(-1)!);
      const completed = at(ofType(events, 'WORKFLOW_EXECUTION_COMPLETED')[0]);
      assert.ok(completed - lastWrite >= quietPeriodMs, `ended ${completed - lastWrite} ms after the last write`);
      assert.ok(completed - lastWrite < quietPeriodMs + 3000, `ended ${completed - lastWrite} ms after the last write`);
    });
  });

  it("a view with clientStatus 'completed' closes the run; a write that comes while it closes is applied once, in it or in a new run", async () => {
    const mock = mockActivities({
      views: {
        open: view(),
        done1: view({ clientStatus: 'completed', stopReason: 'EVDisconnected', readingCount: 4 }),
        done2: view({ clientStatus: 'completed', stopReason: 'EVDisconnected', readingCount: 5 }),
      },
      delayMs: 150,
    });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'close');
      await write('open', 'create', 3);
      const firstRun = (await handle.describe()).runId;
      // Two closing writes at once. The second is queued behind the first when the server hands
      // both to the same workflow task; when it arrives after the first closed the run (a local
      // activity finishes inside the task that runs it), the client sends it to a new run.
      const [a, b] = await Promise.all([write('done1'), write('done2')]);
      assert.deepEqual(a, mock.views.get('done1'));
      assert.deepEqual(b, mock.views.get('done2'));
      const result = await handle.result();
      assert.deepEqual(result, mock.views.get(mock.writes.at(-1)!.writeId), 'the last applied view is the result');
      assert.deepEqual(mock.writes.map((w) => w.writeId).sort(), ['done1', 'done2', 'open'], 'each write applied exactly once');
      const runs = [...new Set([firstRun, (await handle.describe()).runId])];
      const histories = await Promise.all(runs.map(async (runId) => eventsOf(historyToJSON(await stack().env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()))));
      const all = histories.flat();
      assert.equal(ofType(all, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, 3, 'all three writes completed, over the runs');
      assert.equal(ofType(all, 'TIMER_FIRED').length, 0, 'closed by the client, not by the quiet period');
      assert.equal(ofType(all, 'WORKFLOW_EXECUTION_COMPLETED').length, runs.length, 'every run ended by itself');
    });
  });

  it('a signal that arrives while a closing write runs does not lose the write: the server fails that task, the client sends the write again', async () => {
    // The run would end in the task that answers the write, but the signal came meanwhile: the
    // server refuses to close a run with an event it has not shown the workflow (UNHANDLED_COMMAND),
    // fails the task and aborts the update in it as "unexpected workflow task failure". The write
    // is idempotent, so the client sends it again (CI's fuzzing found this as a 500).
    const closed = view({ clientStatus: 'completed', stopReason: 'EVDisconnected', readingCount: 4 });
    const mock = mockActivities({ views: { open: view(), done: closed } });
    let signalled = false;
    const apply = mock.activities.applyWriteAndAnalyse;
    let handle: WorkflowHandle | undefined;
    mock.activities.applyWriteAndAnalyse = async (input) => {
      if (input.writeId === 'done' && !signalled) {
        signalled = true;
        await handle!.signal(refreshSignal);
        await sleep(200);
      }
      return apply(input);
    };
    mock.state.stored = closed;
    await withWorker(mock.activities, async (tq) => {
      const a = actor(tq, 'close-signal');
      handle = a.handle;
      await a.write('open', 'create', 3);
      assert.deepEqual(await a.write('done'), closed);
      assert.deepEqual(await a.handle.result(), closed);
      const ids = mock.writes.map((w) => w.writeId);
      assert.equal(ids[0], 'open');
      assert.ok(ids.filter((id) => id === 'done').length >= 2, `the closing write was sent again (${ids.join(', ')})`);
    });
  });

  it('the refresh signal re-reads the session: state and search attributes follow', async () => {
    const mock = mockActivities({ views: { w1: view({ isAnomaly: false, anomalyScore: 0.1 }) } });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write, address } = actor(tq, 'refresh');
      await write('w1', 'create', 3);
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-A', isAnomaly: false, anomalyScore: 0.1 });

      // A batch rewrote the session behind the actor's back.
      const rewritten = view({ isAnomaly: true, anomalyScore: 0.93, anomalyCount: 1, chargingStationId: 'CP-C', readingCount: 40, message: 'rewritten' });
      mock.state.stored = rewritten;
      await handle.signal(refreshSignal);
      await waitFor('the refreshed view', async () => ((await handle.query(lastAnalysisQuery))?.message === 'rewritten' ? true : undefined), 10_000, 50);
      assert.deepEqual(await handle.query(lastAnalysisQuery), rewritten);
      assert.deepEqual(mock.reads, [{ tenantId: TENANT, sessionDbId: address.sessionDbId }]);
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-C', isAnomaly: true, anomalyScore: 0.93 });

      // A session gone from PostgreSQL (null) leaves the actor's view as it was.
      mock.state.stored = null;
      await handle.signal(refreshSignal);
      await waitFor('the second read', async () => (mock.reads.length === 2 ? true : undefined), 10_000, 50);
      assert.deepEqual(await handle.query(lastAnalysisQuery), rewritten);
    });
  });

  it('a withdrawn write (the activity answers null) leaves the last view in place', async () => {
    const kept = view({ isAnomaly: true, anomalyScore: 0.7, message: 'kept' });
    const mock = mockActivities({ views: { first: kept, withdrawn: null, gone: null } });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'withdrawn');
      assert.deepEqual(await write('first', 'create', 3), kept);
      assert.deepEqual(await write('withdrawn'), kept, 'the answer is the last view');
      assert.deepEqual(await handle.query(lastAnalysisQuery), kept);
      assert.deepEqual(await attributes(handle), { tenant: TENANT, station: 'CP-A', isAnomaly: true, anomalyScore: 0.7 });
      assert.equal(actorUpserts(eventsOf(await historyJson(handle))).length, 1, 'the withdrawn write upserted nothing');

      // A fresh actor whose first write is withdrawn has no view to give.
      const other = actor(tq, 'withdrawn-first');
      assert.equal(await other.write('gone', 'create', 3), null);
      assert.equal(await other.handle.query(lastAnalysisQuery), null);
    });
  });

  it('a lifecycle (writes, a moved deadline, refresh, close) replays; RECORD_HISTORIES=1 commits it', async () => {
    const mock = mockActivities({
      views: {
        create: view({ status: 'pending', isAnomaly: null, anomalyScore: null, readingCount: 2, message: 'Fewer than 3 usable readings.' }),
        a1: view({ readingCount: 3, anomalyScore: 0.2 }),
        a2: view({ readingCount: 4, anomalyScore: 0.2 }),
        a3: view({ readingCount: 5, anomalyScore: 0.2 }),
        replace: view({ readingCount: 5, isAnomaly: true, anomalyScore: 0.77, anomalyCount: 1 }),
        late: view({ readingCount: 6, isAnomaly: true, anomalyScore: 0.78, anomalyCount: 1, chargingStationId: 'CP-D' }),
        close: view({ readingCount: 6, isAnomaly: true, anomalyScore: 0.78, anomalyCount: 1, chargingStationId: 'CP-D', clientStatus: 'completed' }),
      },
      delayMs: 30,
    });
    mock.state.stored = view({ readingCount: 5, isAnomaly: false, anomalyScore: 0.3, message: 'rewritten by a batch' });
    await withWorker(mock.activities, async (tq) => {
      const { handle, write } = actor(tq, 'lifecycle', 1500);
      await write('create', 'create', 2);
      await Promise.all(['a1', 'a2', 'a3'].map((id) => write(id, 'append', 1)));
      await sleep(700);
      await write('replace', 'replace', 5);
      await sleep(700);
      await handle.signal(refreshSignal);
      await write('late', 'append', 1);
      await sleep(700); // the first deadline passed meanwhile: the actor waited for the moved one
      await write('close', 'append', 0);
      const result = await handle.result();
      assert.equal(result?.clientStatus, 'completed');

      const json = await historyJson(handle);
      const events = eventsOf(json);
      assert.ok(json.includes('core_patch'), 'the run took the patched branch');
      assert.ok(ofType(events, 'TIMER_FIRED').length >= 1, 'a deadline passed and was moved');
      assert.equal(ofType(events, 'WORKFLOW_EXECUTION_SIGNALED').length, 1);
      assert.equal(mock.reads.length, 1);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(HISTORY_FILE, json);
    });
  });
});
