// Explain and ask: request schemas and the one presenter of explanations and answers.
import { LANGUAGE_TAG, OFFLINE_LANGUAGES, STYLES } from '../../domain/explanations/language';
import type { Explained } from '../../domain/explanations/service';
import { z } from '../zod';
import { queryBoolean, text } from './common';

const lang = z
  .string()
  .max(35)
  .regex(LANGUAGE_TAG, 'must be a language tag such as en, de, nl, fr or pl')
  .openapi({
    description:
      'Response language: a language tag as the pattern admits (ISO 639-1, e.g. `en`, `pl`; a region such as `en-GB` or `pt_BR` is ignored). ' +
      `A server without an LLM (no ANTHROPIC_API_KEY) writes only ${OFFLINE_LANGUAGES.join(', ')} and answers any other language with a 422 at \`lang\` ` +
      '(a rule of the deployment the pattern cannot state); with an LLM, any tag the pattern admits is written.',
    example: 'en',
  });

const style = z.enum(STYLES).openapi({
  description: '`detailed` (default): what was found, where, how sure, usual causes, what to check; `brief`: a few lines; `technical`: also the contract rules and bucket ranges',
});

export const ExplainBody = z
  .object({
    lang: lang.optional(),
    regenerate: z.boolean().default(false).openapi({ description: 'Generate anew even when a cached explanation exists' }),
    style: style.optional(),
  })
  .openapi('ExplainRequest');

export const ExplainQuery = z.object({
  lang: lang.optional(),
  refresh: queryBoolean.optional().openapi({ description: 'Generate anew even when a cached explanation exists' }),
  style: style.optional(),
});

export const AskBody = z
  .object({
    question: text(2000, 1).refine((q) => q.trim().length > 0, 'must not be blank').openapi({ description: 'Natural language question about the session', example: 'Why did the SoC drop unexpectedly?' }),
    lang: lang.nullable().optional().openapi({ description: 'Response language; if omitted, the answer is in the language of the question' }),
  })
  .openapi('AskRequest');

const NumbersCheckOut = z
  .object({
    checked: z.number().int(),
    supported: z.number().int(),
    unsupported: z.array(z.string()).openapi({ description: 'Numbers of the answer that no tool returned' }),
    ok: z.boolean(),
  })
  .openapi('NumbersCheck', { description: "Every number of an LLM's answer compared with what its tools returned (null for the offline explainer)" });

const UsageOut = z
  .object({
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cacheCreationInputTokens: z.number().int(),
    cacheReadInputTokens: z.number().int(),
  })
  .openapi('TokenUsage');

const common = {
  sessionId: z.string().openapi({ description: 'Session identifier' }),
  cached: z.boolean().openapi({ description: 'Whether this was served from cache' }),
  lang: z.string().nullable().openapi({ description: 'Language it was written in (null: the question\'s language)' }),
  generatedBy: z.string().openapi({ description: '`offline` (the deterministic explainer, no LLM) or `llm:<model>`' }),
  generatedAt: z.string().openapi({ description: 'When it was generated (UTC)' }),
  numbersCheck: NumbersCheckOut.nullable(),
  usage: UsageOut.nullable().openapi({ description: 'Tokens the generation used (null without an LLM)' }),
};

export const ExplanationOut = z
  .object({
    sessionId: common.sessionId,
    explanation: z.string().openapi({ description: 'Human-readable explanation of the detected anomalies' }),
    cached: common.cached,
    lang: common.lang,
    style: z.string(),
    generatedBy: common.generatedBy,
    generatedAt: common.generatedAt,
    numbersCheck: common.numbersCheck,
    usage: common.usage,
  })
  .openapi('ExplanationResponse');

export const AnswerOut = z
  .object({
    sessionId: common.sessionId,
    answer: z.string().openapi({ description: 'Answer to the question about this session' }),
    cached: common.cached,
    lang: common.lang,
    generatedBy: common.generatedBy,
    generatedAt: common.generatedAt,
    numbersCheck: common.numbersCheck,
    usage: common.usage,
  })
  .openapi('AskResponse');

function meta(e: Explained) {
  const r = e.result;
  return {
    sessionId: e.sessionId,
    cached: e.cached,
    lang: r.lang === 'auto' ? null : r.lang,
    generatedBy: r.generator,
    generatedAt: r.createdAt,
    numbersCheck: r.numbersCheck,
    usage: r.usage,
  };
}

export function presentExplanation(e: Explained): z.infer<typeof ExplanationOut> {
  const m = meta(e);
  return { sessionId: m.sessionId, explanation: e.result.text, cached: m.cached, lang: m.lang, style: e.result.style, generatedBy: m.generatedBy, generatedAt: m.generatedAt, numbersCheck: m.numbersCheck, usage: m.usage };
}

export function presentAnswer(e: Explained): z.infer<typeof AnswerOut> {
  const m = meta(e);
  return { sessionId: m.sessionId, answer: e.result.text, cached: m.cached, lang: m.lang, generatedBy: m.generatedBy, generatedAt: m.generatedAt, numbersCheck: m.numbersCheck, usage: m.usage };
}
