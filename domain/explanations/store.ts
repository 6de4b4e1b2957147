// Stored explanations (cached per cache key) and the tokens each organization used per UTC day.
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, type Row } from '../../db/sql';
import { llmDailyTokenBudgetOf } from '../organization';
import type { ExplanationRequest, ExplanationResult, NumbersCheck, TokenUsage } from '../../workflows/explanation/contract';

/** What an explanation is cached by; the explanation workflow's id is derived from it. */
export interface CacheKeyParts {
  kind: 'explain' | 'ask';
  sessionDbId: string;
  analysisVersion: string;
  lang: string;
  style: string;
  generator: string;
  question: string | null;
}

/** SHA-256 (hex) of the parts: one per (session, analysis version, kind, language, style, generator[, question]). */
export function cacheKeyOf(p: CacheKeyParts): string {
  const question = p.question === null ? '' : p.question.trim().replace(/\s+/g, ' ');
  return createHash('sha256').update(JSON.stringify([p.kind, p.sessionDbId, p.analysisVersion, p.lang, p.style, p.generator, question])).digest('hex');
}

const iso = (d: unknown) => new Date(d as string).toISOString();

function resultOf(r: Row, fromCache: boolean): ExplanationResult {
  return {
    explanationId: r.id,
    text: r.text,
    generator: r.generator,
    lang: r.lang,
    style: r.style,
    createdAt: iso(r.created_at),
    numbersCheck: (r.numbers_check as NumbersCheck | null) ?? null,
    usage: (r.usage as TokenUsage | null) ?? null,
    fromCache,
  };
}

export async function findExplanation(em: EntityManager, tenantId: string, cacheKey: string): Promise<ExplanationResult | null> {
  const [row] = await sql(em, 'select * from explanations where tenant_id = ? and cache_key = ?', [tenantId, cacheKey]);
  return row ? resultOf(row, true) : null;
}

/** Stores (or, regenerated, replaces) the explanation of a cache key. */
export async function storeExplanation(
  em: EntityManager,
  r: ExplanationRequest,
  generated: { text: string; generator: string; numbersCheck: NumbersCheck | null; usage: TokenUsage | null; rounds: number; toolCalls: number },
): Promise<ExplanationResult> {
  const [row] = await sql(
    em,
    `insert into explanations (id, tenant_id, session_id, cache_key, kind, analysis_version, lang, style, question, generator, text, numbers_check, usage, rounds, tool_calls, created_at)
     values (gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, now())
     on conflict (tenant_id, cache_key) do update set text = excluded.text, generator = excluded.generator, numbers_check = excluded.numbers_check,
        usage = excluded.usage, rounds = excluded.rounds, tool_calls = excluded.tool_calls, created_at = excluded.created_at
     returning *`,
    [
      r.tenantId,
      r.sessionDbId,
      r.cacheKey,
      r.kind,
      r.analysisVersion,
      r.lang,
      r.style,
      r.question,
      generated.generator,
      generated.text,
      generated.numbersCheck === null ? null : JSON.stringify(generated.numbersCheck),
      generated.usage === null ? null : JSON.stringify(generated.usage),
      generated.rounds,
      generated.toolCalls,
    ],
  );
  return resultOf(row, false);
}

/** Today's UTC day (`YYYY-MM-DD`) and the seconds until it ends. */
export function utcDay(now = new Date()): { day: string; secondsLeft: number } {
  const day = now.toISOString().slice(0, 10);
  const end = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return { day, secondsLeft: Math.max(1, Math.ceil((end - now.getTime()) / 1000)) };
}

/** Adds one model call's tokens to the organization's count for today. */
export async function recordUsage(em: EntityManager, tenantId: string, u: TokenUsage, now = new Date()): Promise<void> {
  await sql(
    em,
    `insert into llm_usage (tenant_id, day, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, calls)
     values (?, ?, ?, ?, ?, ?, 1)
     on conflict (tenant_id, day) do update set input_tokens = llm_usage.input_tokens + excluded.input_tokens,
        output_tokens = llm_usage.output_tokens + excluded.output_tokens,
        cache_creation_input_tokens = llm_usage.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
        cache_read_input_tokens = llm_usage.cache_read_input_tokens + excluded.cache_read_input_tokens,
        calls = llm_usage.calls + 1`,
    [tenantId, utcDay(now).day, u.inputTokens, u.outputTokens, u.cacheCreationInputTokens, u.cacheReadInputTokens],
  );
}

/**
 * Tokens the organization used today, as the budget counts them: input (including what was written
 * to and read from the prompt cache) plus output.
 */
export async function tokensUsedToday(em: EntityManager, tenantId: string, now = new Date()): Promise<number> {
  const [row] = await sql(
    em,
    `select (input_tokens + output_tokens + cache_creation_input_tokens + cache_read_input_tokens)::float8 as used from llm_usage where tenant_id = ? and day = ?`,
    [tenantId, utcDay(now).day],
  );
  return row ? Number(row.used) : 0;
}

/**
 * The budget's refusal, or null while there is budget left. The budget is the organization's own
 * (`llmDailyTokenBudget`, 0: no LLM use at all) when it has one, else `serviceDefault`
 * (`EVNI_LLM_DAILY_TOKEN_BUDGET`; 0: no budget).
 */
export async function budgetExceeded(
  em: EntityManager,
  tenantId: string,
  serviceDefault: number,
  now = new Date(),
): Promise<{ detail: string; retryAfterSeconds: number } | null> {
  const own = await llmDailyTokenBudgetOf(em, tenantId);
  const budget = own ?? serviceDefault;
  if (own === null && budget <= 0) return null;
  const { secondsLeft } = utcDay(now);
  if (budget <= 0) {
    return {
      detail:
        "The organization's daily LLM token budget is 0 (its llmDailyTokenBudget setting): LLM use is turned off for this organization; " +
        'an admin can raise it (or reset it to the service default with null) with PUT /v1/organization',
      retryAfterSeconds: secondsLeft,
    };
  }
  const used = await tokensUsedToday(em, tenantId, now);
  if (used < budget) return null;
  const whose = own === null ? '' : ' (its llmDailyTokenBudget setting)';
  return {
    detail: `The organization's daily LLM token budget of ${budget} tokens${whose} is used up (${used} used today, UTC); it resets at 00:00 UTC, in ${secondsLeft} s`,
    retryAfterSeconds: secondsLeft,
  };
}
