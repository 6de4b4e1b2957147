// The explanation workflow (workflows/explanation/workflow.ts) with MOCKED activities, in the
// Temporal samples' style (see batch.test.ts): the run's dev server, a worker of our own running the
// real workflow bundle, activities that are plain objects recording their calls. Workflows start the
// way the API starts them: `runExplanation`.
// RECORD_HISTORIES=1 also writes test/histories/explanation-workflow.json (see replay.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { runExplanation } from '../../temporal/explanations';
import { workflowBundle } from '../../worker/worker';
import {
  explanationWorkflowId,
  FAILURE,
  type ContentBlock,
  type ExplanationActivities,
  type ExplanationRequest,
  type ExplanationResult,
  type LlmActivities,
  type ToolActivities,
  type Turn,
} from '../../workflows/explanation/contract';
import { withMockedWorker } from '../helpers/mocked-worker';
import { stack } from '../helpers/stack';

const TENANT = `wf-expl-tenant-${process.pid}`;
const HISTORY_FILE = path.join(__dirname, '..', 'histories', 'explanation-workflow.json');
let n = 0;

function request(over: Partial<ExplanationRequest> = {}): ExplanationRequest {
  return {
    tenantId: TENANT,
    sessionDbId: 'db-1',
    sessionId: 'sess-1',
    analysisVersion: '1',
    kind: 'explain',
    lang: 'en',
    style: 'detailed',
    question: null,
    cacheKey: `key-${process.pid}-${++n}`,
    force: false,
    generator: 'llm',
    llm: { model: 'm', maxTokens: 100, maxRounds: 4, timeoutMs: 2_000, maxAttempts: 4, retryInitialMs: 50, retryMaxMs: 200, dailyTokenBudget: 0 },
    ...over,
  };
}

const usage = { inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 100, cacheReadInputTokens: 0 };
const result = (text: string, fromCache = false): ExplanationResult => ({
  explanationId: 'e',
  text,
  generator: 'llm:m',
  lang: 'en',
  style: 'detailed',
  createdAt: '2026-01-01T00:00:00.000Z',
  numbersCheck: null,
  usage: null,
  fromCache,
});

/** Mocked activities: the model replies from `script` (one per call; the last repeats). */
function mock(script: ((turns: Turn[], finalRound: boolean) => { content: ContentBlock[]; stopReason: string } | Error)[], cached: ExplanationResult | null = null) {
  const calls = { model: [] as { turns: number; finalRound: boolean; attempt: number }[], tools: [] as string[], stored: [] as unknown[], offline: 0, find: 0 };
  let i = 0;
  const activities: ExplanationActivities & LlmActivities & ToolActivities = {
    async findExplanation() {
      calls.find++;
      return cached;
    },
    async writeOfflineExplanation() {
      calls.offline++;
      return { ...result('offline text'), generator: 'offline' };
    },
    async callModel({ turns, finalRound }) {
      calls.model.push({ turns: turns.length, finalRound, attempt: Context.current().info.attempt });
      const step = script[Math.min(i++, script.length - 1)](turns, finalRound);
      if (step instanceof Error) throw step;
      return { ...step, usage };
    },
    async runTool({ call }) {
      calls.tools.push(call.name);
      return { content: JSON.stringify({ tool: call.name, kwh: 11.1 }), isError: false };
    },
    async storeLlmExplanation(input) {
      calls.stored.push(input);
      return result(input.text);
    },
  };
  return { activities, calls };
}

const toolUse = (...names: string[]) => () => ({ content: names.map((name, k): ContentBlock => ({ type: 'tool_use', id: `t${k}-${name}`, name, input: {} })), stopReason: 'tool_use' });
const answer = (text: string) => () => ({ content: [{ type: 'text', text } as ContentBlock], stopReason: 'end_turn' });

async function run(taskQueue: string, req: ExplanationRequest) {
  const outcome = await runExplanation(stack().env.client, taskQueue, req, 30_000);
  return { outcome, handle: stack().env.client.workflow.getHandle(explanationWorkflowId(req.tenantId, req.cacheKey)) };
}

describe('explanation workflow with mocked activities', function () {
  this.timeout(60_000);

  it('runs tool rounds (each tool call its own activity), then stores the answer with summed usage; RECORD_HISTORIES=1 commits the history', async () => {
    const m = mock([toolUse('get_session_summary'), toolUse('get_anomaly_detail', 'get_category_contract'), answer('It fell 11.1 kWh.')]);
    await withMockedWorker('explanation', m.activities, async (tq) => {
      const { outcome, handle } = await run(tq, request());
      assert.equal(outcome.state, 'done');
      assert.deepEqual(m.calls.tools, ['get_session_summary', 'get_anomaly_detail', 'get_category_contract']);
      assert.deepEqual(m.calls.model.map((c) => c.turns), [0, 2, 4], 'each call carries the conversation so far');
      assert.equal(m.calls.stored.length, 1);
      const stored = m.calls.stored[0] as { text: string; toolResults: string[]; usage: typeof usage; rounds: number; toolCalls: number };
      assert.equal(stored.text, 'It fell 11.1 kWh.');
      assert.equal(stored.toolResults.length, 3);
      assert.deepEqual([stored.rounds, stored.toolCalls], [3, 3]);
      assert.deepEqual(stored.usage, { inputTokens: 30, outputTokens: 15, cacheCreationInputTokens: 300, cacheReadInputTokens: 0 });

      const json = historyToJSON(await handle.fetchHistory());
      const events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] = JSON.parse(json).events;
      const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
      assert.deepEqual(scheduled, ['findExplanation', 'callModel', 'runTool', 'callModel', 'runTool', 'runTool', 'callModel', 'storeLlmExplanation']);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(json)), handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1' && !fs.existsSync(HISTORY_FILE)) fs.writeFileSync(HISTORY_FILE, json);
    });
  });

  it('bounds the rounds: the last model call may not use tools', async () => {
    const m = mock([(_t, finalRound) => (finalRound ? answer('done')() : toolUse('get_meter_values')())]);
    await withMockedWorker('explanation', m.activities, async (tq) => {
      const { outcome } = await run(tq, request());
      assert.equal(outcome.state, 'done');
      assert.deepEqual(m.calls.model.map((c) => c.finalRound), [false, false, false, true]);
      assert.equal(m.calls.tools.length, 3);
    });
  });

  it('a retryable model failure is retried by Temporal; a non-retryable one (the budget) fails the workflow with its type', async () => {
    let failures = 0;
    const flaky = mock([() => (failures++ < 2 ? ApplicationFailure.create({ message: 'overloaded', type: 'LlmUnavailable' }) : answer('ok')())]);
    await withMockedWorker('explanation', flaky.activities, async (tq) => {
      const { outcome } = await run(tq, request());
      assert.equal(outcome.state, 'done');
      assert.deepEqual(flaky.calls.model.map((c) => c.attempt), [1, 2, 3]);
    });
    const broke = mock([() => ApplicationFailure.nonRetryable('budget used up', FAILURE.budget)]);
    await withMockedWorker('explanation', broke.activities, async (tq) => {
      const { outcome } = await run(tq, request());
      assert.deepEqual(outcome, { state: 'failed', type: FAILURE.budget, message: 'budget used up' });
      assert.equal(broke.calls.model.length, 1);
      assert.equal(broke.calls.stored.length, 0);
    });
  });

  it('offline: one activity writes it; a stored one is returned unless regenerating', async () => {
    const m = mock([answer('unused')]);
    await withMockedWorker('explanation', m.activities, async (tq) => {
      const { outcome } = await run(tq, request({ generator: 'offline', llm: undefined }));
      assert.equal(outcome.state === 'done' && outcome.result.text, 'offline text');
      assert.deepEqual([m.calls.find, m.calls.offline, m.calls.model.length], [1, 1, 0]);
    });
    const stored = mock([answer('unused')], result('stored', true));
    await withMockedWorker('explanation', stored.activities, async (tq) => {
      const first = await run(tq, request({ generator: 'offline', llm: undefined }));
      assert.equal(first.outcome.state === 'done' && first.outcome.result.fromCache, true);
      const forced = await run(tq, request({ generator: 'offline', llm: undefined, force: true }));
      assert.equal(forced.outcome.state === 'done' && forced.outcome.result.text, 'offline text');
      assert.deepEqual([stored.calls.find, stored.calls.offline], [1, 1], 'regenerating skips the lookup');
    });
  });

  it('identical starts share one run (USE_EXISTING)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const m = mock([answer('shared')]);
    const slow = { ...m.activities, async callModel(input: Parameters<LlmActivities['callModel']>[0]) {
      await gate;
      return m.activities.callModel(input);
    } };
    await withMockedWorker('explanation', slow, async (tq) => {
      const req = request();
      const pending = [1, 2, 3].map(() => runExplanation(stack().env.client, tq, req, 30_000));
      setTimeout(release, 300);
      const outcomes = await Promise.all(pending);
      for (const o of outcomes) assert.equal(o.state === 'done' && o.result.text, 'shared');
      assert.equal(m.calls.model.length, 1);
    });
  });
});
