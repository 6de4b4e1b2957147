// One workflow per explanation: without an LLM, one activity writes and stores the deterministic
// explanation; with one, a bounded loop of model calls, each tool call the model makes run as its own
// activity, then the answer is checked against the tool results and stored. The conversation (the
// model's content and the tool results) is what the history holds; the API key never is.
import { proxyActivities, setCurrentDetails, type ActivityOptions } from '@temporalio/workflow';
import type {
  ContentBlock,
  ExplanationActivities,
  ExplanationRequest,
  ExplanationResult,
  LlmActivities,
  TokenUsage,
  ToolActivities,
  Turn,
} from './contract';
import { FAILURE } from './contract';

const storeOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [FAILURE.noSession] },
};
const store = proxyActivities<ExplanationActivities>(storeOptions);

const tools = proxyActivities<ToolActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

export async function explanationWorkflow(request: ExplanationRequest): Promise<ExplanationResult> {
  if (!request.force) {
    // A generation that finished between the API's cache lookup and this start: nothing to redo.
    const cached = await store.findExplanation({ tenantId: request.tenantId, cacheKey: request.cacheKey });
    if (cached) return cached;
  }
  if (request.generator === 'offline' || !request.llm) return store.writeOfflineExplanation(request);

  const o = request.llm;
  // The model call's retry policy is the configuration's: 429 (after its retry-after), 529, 5xx and
  // timeouts are retried by Temporal; a refused request, a missing key or a spent budget are not.
  const llm = proxyActivities<LlmActivities>({
    startToCloseTimeout: o.timeoutMs + 5_000,
    retry: {
      initialInterval: o.retryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: Math.max(o.retryInitialMs, o.retryMaxMs),
      maximumAttempts: o.maxAttempts,
      nonRetryableErrorTypes: [FAILURE.budget, FAILURE.rejected, FAILURE.notConfigured, FAILURE.noSession],
    },
  });

  const turns: Turn[] = [];
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  const toolResults: string[] = [];
  let rounds = 0;
  let toolCalls = 0;
  let last: ContentBlock[] = [];
  const maxRounds = Math.max(1, o.maxRounds);
  while (rounds < maxRounds) {
    rounds++;
    setCurrentDetails(`model call ${rounds} of at most ${maxRounds}; ${toolCalls} tool calls so far`);
    const reply = await llm.callModel({ request, turns, finalRound: rounds === maxRounds });
    usage.inputTokens += reply.usage.inputTokens;
    usage.outputTokens += reply.usage.outputTokens;
    usage.cacheCreationInputTokens += reply.usage.cacheCreationInputTokens;
    usage.cacheReadInputTokens += reply.usage.cacheReadInputTokens;
    last = reply.content;
    turns.push({ role: 'assistant', content: reply.content });
    const uses = reply.content.filter((b): b is Extract<ContentBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    if (reply.stopReason !== 'tool_use' || uses.length === 0 || rounds === maxRounds) break;
    const results = await Promise.all(
      uses.map((u) => tools.runTool({ tenantId: request.tenantId, sessionDbId: request.sessionDbId, call: { id: u.id, name: u.name, input: u.input } })),
    );
    toolCalls += uses.length;
    for (const r of results) toolResults.push(r.content);
    turns.push({
      role: 'user',
      content: results.map((r, i): ContentBlock => ({ type: 'tool_result', tool_use_id: uses[i].id, content: r.content, ...(r.isError ? { is_error: true } : {}) })),
    });
  }
  const text = last
    .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
  return store.storeLlmExplanation({ request, text, toolResults, usage, rounds, toolCalls });
}
