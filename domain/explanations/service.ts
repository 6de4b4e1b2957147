// Explain and ask, as the API calls them: find the tenant's session, serve the cached explanation of
// (session, analysis version, language, style) or run the one workflow of that cache key and wait
// for it up to a limit (then a 503 with Retry-After: the generation goes on and is cached).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { runExplanation } from '../../temporal/explanations';
import { FAILURE, type ExplanationRequest, type ExplanationResult, type LlmOptions } from '../../workflows/explanation/contract';
import { busy, conflict, DomainError, invalid, unavailable } from '../errors';
import { sessionRef } from './facts';
import { isOfflineLanguage, OFFLINE_LANGUAGES, primaryLanguage, type ExplanationStyle } from './language';
import { budgetExceeded, cacheKeyOf, findExplanation } from './store';

export type ExplainSettings = Pick<
  Config,
  | 'anthropicApiKey'
  | 'llmModel'
  | 'llmMaxTokens'
  | 'llmMaxRounds'
  | 'llmTimeoutMs'
  | 'llmMaxAttempts'
  | 'llmRetryInitialMs'
  | 'llmRetryMaxMs'
  | 'llmDailyTokenBudget'
  | 'explainWaitMs'
  | 'taskQueue'
>;

export interface ExplainContext {
  em: EntityManager;
  temporal: Client;
  tenantId: string;
  settings: ExplainSettings;
}

export interface Explained {
  sessionId: string;
  result: ExplanationResult;
  /** Served from the cache, not generated for this request. */
  cached: boolean;
}

/** How long a client should wait before asking again for a generation still under way. */
const RETRY_AFTER_SECONDS = 5;

export const ASK_NEEDS_LLM =
  'Asking questions needs an LLM, and none is configured: set ANTHROPIC_API_KEY (and optionally EVNI_LLM_MODEL) for the API and the worker, ' +
  'then restart them. Without it, GET or POST /v1/sessions/{session_id}/explain gives a deterministic explanation.';

function llmOptions(s: ExplainSettings): LlmOptions {
  return {
    model: s.llmModel,
    maxTokens: s.llmMaxTokens,
    maxRounds: s.llmMaxRounds,
    timeoutMs: s.llmTimeoutMs,
    maxAttempts: s.llmMaxAttempts,
    retryInitialMs: s.llmRetryInitialMs,
    retryMaxMs: s.llmRetryMaxMs,
    dailyTokenBudget: s.llmDailyTokenBudget,
  };
}

export async function explainSession(
  ctx: ExplainContext,
  sessionId: string,
  opts: { lang?: string; style?: ExplanationStyle; force: boolean; /** Where `lang` came from, for the 422's location. */ langAt?: 'query' | 'body' },
): Promise<Explained> {
  const llm = Boolean(ctx.settings.anthropicApiKey);
  const lang = primaryLanguage(opts.lang ?? 'en');
  if (!llm && !isOfflineLanguage(lang)) {
    throw invalid(
      `Validation failed at lang: "${opts.lang}" is not available without an LLM (available: ${OFFLINE_LANGUAGES.join(', ')}); set ANTHROPIC_API_KEY for other languages`,
      [{ loc: [opts.langAt ?? 'body', 'lang'], msg: `one of ${OFFLINE_LANGUAGES.join(', ')} without an LLM` }],
    );
  }
  return generate(ctx, sessionId, { kind: 'explain', lang, style: opts.style ?? 'detailed', question: null, force: opts.force, llm });
}

export async function askSession(ctx: ExplainContext, sessionId: string, opts: { question: string; lang?: string }): Promise<Explained> {
  const llm = Boolean(ctx.settings.anthropicApiKey);
  // The session's existence and state first: another tenant's session is a 404 whatever the setup.
  await explainableSession(ctx, sessionId);
  if (!llm) throw new DomainError('unavailable', ASK_NEEDS_LLM, undefined, 3600);
  const lang = opts.lang === undefined ? 'auto' : primaryLanguage(opts.lang);
  return generate(ctx, sessionId, { kind: 'ask', lang, style: 'brief', question: opts.question, force: false, llm });
}

async function explainableSession(ctx: ExplainContext, sessionId: string) {
  const ref = await sessionRef(ctx.em, ctx.tenantId, sessionId);
  if (ref.status === 'pending') {
    throw conflict(
      `Session ${sessionId} is still pending (not analysed yet${ref.message ? `: ${ref.message}` : ''}); it can be explained once it has at least 3 usable meter values.`,
    );
  }
  return ref;
}

async function generate(
  ctx: ExplainContext,
  sessionId: string,
  g: { kind: 'explain' | 'ask'; lang: string; style: string; question: string | null; force: boolean; llm: boolean },
): Promise<Explained> {
  const ref = await explainableSession(ctx, sessionId);
  const s = ctx.settings;
  const generator = g.llm ? `llm:${s.llmModel}` : 'offline';
  const cacheKey = cacheKeyOf({ kind: g.kind, sessionDbId: ref.sessionDbId, analysisVersion: ref.analysisVersion, lang: g.lang, style: g.style, generator, question: g.question });
  if (!g.force) {
    const cached = await findExplanation(ctx.em, ctx.tenantId, cacheKey);
    if (cached) return { sessionId, result: cached, cached: true };
  }
  if (g.llm) {
    // The organization's own daily budget when it has one (PUT /v1/organization), else the service default.
    const over = await budgetExceeded(ctx.em, ctx.tenantId, s.llmDailyTokenBudget);
    if (over) throw busy(over.detail, over.retryAfterSeconds);
  }
  const request: ExplanationRequest = {
    tenantId: ctx.tenantId,
    sessionDbId: ref.sessionDbId,
    sessionId,
    analysisVersion: ref.analysisVersion,
    kind: g.kind,
    lang: g.lang,
    style: g.style,
    question: g.question,
    cacheKey,
    force: g.force,
    generator: g.llm ? 'llm' : 'offline',
    ...(g.llm ? { llm: llmOptions(s) } : {}),
  };
  let outcome;
  try {
    outcome = await runExplanation(ctx.temporal, s.taskQueue, request, s.explainWaitMs);
  } catch (err) {
    throw unavailable(`The workflow engine is unavailable (${(err as Error).message}); retry later`, RETRY_AFTER_SECONDS);
  }
  if (outcome.state === 'done') return { sessionId, result: outcome.result, cached: outcome.result.fromCache };
  if (outcome.state === 'waiting') {
    throw unavailable(
      `The ${g.kind === 'ask' ? 'answer' : 'explanation'} is still being generated; it will be cached when done: retry in ${RETRY_AFTER_SECONDS} s`,
      RETRY_AFTER_SECONDS,
    );
  }
  if (outcome.type === FAILURE.budget) {
    const over = await budgetExceeded(ctx.em, ctx.tenantId, s.llmDailyTokenBudget);
    throw busy(over?.detail ?? outcome.message, over?.retryAfterSeconds ?? 60);
  }
  if (outcome.type === FAILURE.noSession) throw conflict(outcome.message);
  throw unavailable(`Could not generate the ${g.kind === 'ask' ? 'answer' : 'explanation'}: ${outcome.message}`, RETRY_AFTER_SECONDS);
}
