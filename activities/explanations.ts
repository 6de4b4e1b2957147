// Explanation activities: thin over domain/explanations, each with its own tenant-scoped
// EntityManager fork. The model call turns the Messages API's failures into Temporal's terms: 429,
// 529, 5xx and timeouts are retried (a 429 after its retry-after), anything else fails for good.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type Anthropic from '@anthropic-ai/sdk';
import { config } from '../config';
import { tenantEm } from '../db/orm';
import { DomainError } from '../domain/errors';
import { loadSession } from '../domain/explanations/facts';
import { isOfflineLanguage, STYLES, type ExplanationStyle } from '../domain/explanations/language';
import { anthropicClient, callModel, classifyLlmError } from '../domain/explanations/llm';
import { checkNumbers } from '../domain/explanations/numbers';
import { offlineExplanation } from '../domain/explanations/offline';
import { budgetExceeded, findExplanation, recordUsage, storeExplanation } from '../domain/explanations/store';
import { runTool } from '../domain/explanations/tools';
import { contractText } from '../domain/explanations/contract-text';
import { FAILURE, type ExplanationActivities, type LlmActivities, type ToolActivities } from '../workflows/explanation/contract';
import type { ActivityDeps } from '.';

/** Where the worker reaches the Messages API (the key never enters workflow history). */
export interface LlmConnection {
  apiKey: string;
  baseURL?: string;
}

export function createExplanationActivities(deps: Pick<ActivityDeps, 'orm' | 'llm'>): ExplanationActivities & LlmActivities & ToolActivities {
  const connection: LlmConnection | null =
    deps.llm !== undefined ? deps.llm : config.anthropicApiKey ? { apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl } : null;
  let client: Anthropic | undefined;

  /** The session's facts, or a non-retryable failure when it is gone or not analysed. */
  async function explainable(tenantId: string, sessionDbId: string) {
    try {
      const loaded = await loadSession(tenantEm(deps.orm, tenantId), tenantId, sessionDbId);
      if (loaded.facts.status === 'pending') throw ApplicationFailure.nonRetryable('The session is pending again (its readings changed): nothing to explain yet', FAILURE.noSession);
      return loaded;
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'not_found') throw ApplicationFailure.nonRetryable('The session no longer exists', FAILURE.noSession);
      throw err;
    }
  }

  return {
    async findExplanation({ tenantId, cacheKey }) {
      return findExplanation(tenantEm(deps.orm, tenantId), tenantId, cacheKey);
    },

    async writeOfflineExplanation(request) {
      const { facts } = await explainable(request.tenantId, request.sessionDbId);
      const lang = isOfflineLanguage(request.lang) ? request.lang : 'en';
      const style = (STYLES as readonly string[]).includes(request.style) ? (request.style as ExplanationStyle) : 'detailed';
      const text = offlineExplanation(facts, lang, style);
      return storeExplanation(tenantEm(deps.orm, request.tenantId), request, { text, generator: 'offline', numbersCheck: null, usage: null, rounds: 0, toolCalls: 0 });
    },

    async callModel({ request, turns, finalRound }) {
      if (!connection) throw ApplicationFailure.nonRetryable('This worker has no ANTHROPIC_API_KEY: set it for the worker as for the API', FAILURE.notConfigured);
      const em = tenantEm(deps.orm, request.tenantId);
      // Before every model call: the organization's own budget as stored now, else the service default the API sent.
      const over = await budgetExceeded(em, request.tenantId, request.llm?.dailyTokenBudget ?? 0);
      if (over) throw ApplicationFailure.nonRetryable(over.detail, FAILURE.budget);
      client ??= anthropicClient(connection);
      const ctx = Context.current();
      try {
        const reply = await callModel(client, request, turns, finalRound);
        await recordUsage(em, request.tenantId, reply.usage);
        ctx.log.info('model call', { model: request.llm?.model, stopReason: reply.stopReason, attempt: ctx.info.attempt, ...reply.usage });
        return reply;
      } catch (err) {
        const c = classifyLlmError(err);
        ctx.log.warn('model call failed', { attempt: ctx.info.attempt, retry: c.retry, retryAfterMs: c.retryAfterMs, error: c.message });
        if (!c.retry) throw ApplicationFailure.nonRetryable(c.message, FAILURE.rejected);
        throw ApplicationFailure.create({ message: c.message, type: 'LlmUnavailable', ...(c.retryAfterMs !== undefined ? { nextRetryDelay: c.retryAfterMs } : {}) });
      }
    },

    async runTool({ tenantId, sessionDbId, call }) {
      return runTool(tenantEm(deps.orm, tenantId), tenantId, sessionDbId, call.name, call.input);
    },

    async storeLlmExplanation({ request, text, toolResults, usage, rounds, toolCalls }) {
      if (text === '') throw ApplicationFailure.nonRetryable(`The model gave no answer within ${rounds} model calls`, FAILURE.rejected);
      // The contract is part of what the model was given (the system prompt and get_category_contract).
      const numbersCheck = checkNumbers(text, [...toolResults, contractText()]);
      return storeExplanation(tenantEm(deps.orm, request.tenantId), request, {
        text,
        generator: `llm:${request.llm?.model ?? 'unknown'}`,
        numbersCheck,
        usage,
        rounds,
        toolCalls,
      });
    },
  };
}
