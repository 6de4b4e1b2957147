// Determinism guard: histories of the session actor recorded with earlier code are replayed
// against the current workflow code. A change that would break running workflows fails here.
// Record new ones (never over old ones): RECORD_HISTORIES=1 npm test
// Committed histories (every .json of test/histories/ is replayed):
// - session-actor-lifecycle.json: recorded over HTTP before the `session-actor-quiet-deadline` patch;
//   the only history of the actor's old branch, so keep it;
// - session-actor-http.json: the same HTTP scenario with the current code (recorded here);
// - session-actor-quiet-deadline.json: the actor's patched branch (writes, a moved deadline, refresh,
//   close), recorded by test/workflows/session-actor.test.ts with mocked activities;
// - batch-workflow.json: the batch workflow (3 lanes, 10 chunks), recorded by test/workflows/batch.test.ts.
// - explanation-workflow.json: the explanation workflow (three model calls, three tool calls), recorded by
//   test/workflows/explanation.test.ts.
// - fine-tune-workflow.json: the fine-tuning workflow (export, a training attempt lost after two epochs and
//   its resumed retry, evaluation, ONNX export, registration), recorded by test/workflows/fine-tune.test.ts.
// - data-quality.json: the scheduled data-quality workflow (five tenants, two lanes), recorded by test/workflows/data-quality.test.ts.
// - shade-run.json: the SHADE run (plan, 7 stations in 3 chunks over 2 lanes, the day search attribute),
//   recorded by test/workflows/shade.test.ts before the `shade-chunk-ranges` patch (the plan listed
//   every station); the only history of that branch, so keep it;
// - shade-run-chunk-ranges.json: the same run with chunks as ranges of station ids (the patched branch).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { sessionWorkflowId } from '../workflows/session/contract';
import { workflowBundle } from '../worker/worker';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

const DIR = path.join(__dirname, 'histories');
const energy = (minute: number, kwh: number) => ({
  timestamp: new Date(Date.parse('2026-03-01T08:00:00Z') + minute * 60_000).toISOString(),
  value: kwh,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

/** Drives one session through create → concurrent appends → replace → close, returns its history. */
async function recordScenario(): Promise<{ workflowId: string; json: string }> {
  const { key, tenantId } = await newTenant('replay');
  const sessionId = `replay-${Date.now()}`;
  await call('POST', '/v1/sessions', { key, body: { sessionId, chargingStationId: 'CP-REPLAY', meterValues: [energy(0, 0), energy(1, 0.2)] } });
  await Promise.all([1, 2, 3].map((i) => call('PATCH', `/v1/sessions/${sessionId}`, { key, body: { meterValues: [energy(1 + i, 0.2 + 0.2 * i)] } })));
  await call('PUT', `/v1/sessions/${sessionId}`, { key, body: { meterValues: [energy(0, 0), energy(1, 0.2), energy(2, 0.1), energy(3, 0.1), energy(4, 0.1)] } });
  await call('PATCH', `/v1/sessions/${sessionId}`, { key, body: { status: 'completed' } });
  const handle = stack().env.client.workflow.getHandle(sessionWorkflowId(tenantId, sessionId));
  await handle.result();
  const history = await handle.fetchHistory();
  return { workflowId: handle.workflowId, json: historyToJSON(history) };
}

describe('workflow replay', function () {
  this.timeout(120_000);

  it('replays a history made by the current code', async () => {
    const { workflowId, json } = await recordScenario();
    if (process.env.RECORD_HISTORIES === '1') fs.writeFileSync(path.join(DIR, 'session-actor-http.json'), json);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), workflowId);
  });

  it('replays every committed history without non-determinism', async () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0, 'committed histories exist');
    const histories = files.map((f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))) }));
    const bundle = await workflowBundle();
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
    }
  });

  // Each patch's old branch exists only in histories recorded before it: keep one of each.
  const PATCHES = [
    { workflowType: 'sessionActor', patch: 'session-actor-quiet-deadline', old: 'session-actor-lifecycle.json' },
    { workflowType: 'shadeRun', patch: 'shade-chunk-ranges', old: 'shade-run.json' },
  ];
  for (const { workflowType, patch, old } of PATCHES) {
    it(`the committed histories cover both branches of the ${patch} patch`, () => {
      const branches = { old: [] as string[], patched: [] as string[] };
      for (const f of fs.readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
        const events: any[] = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')).events;
        if (events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name !== workflowType) continue;
        const patched = events.some((e) =>
          (e.markerRecordedEventAttributes?.markerName === 'core_patch' &&
            Object.values<any>(e.markerRecordedEventAttributes.details ?? {}).some((d) =>
              d.payloads?.some((p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')).id === patch),
            )),
        );
        (patched ? branches.patched : branches.old).push(f);
      }
      assert.ok(branches.old.length > 0, `a history of the pre-patch branch (${old}) is committed: ${JSON.stringify(branches)}`);
      assert.ok(branches.patched.length > 0, `a history of the patched branch is committed: ${JSON.stringify(branches)}`);
    });
  }
});
