// Explain and ask: HTTP only. Each handler calls one domain function (domain/explanations/service.ts)
// and presents its result; the generation runs in the explanation workflow.
import { askSession, explainSession, type ExplainContext } from '../../domain/explanations/service';
import { defineRoute, type Auth, type HandlerInput } from '../route';
import { ErrorSchema } from '../schemas/common';
import { AnswerOut, AskBody, ExplainBody, ExplainQuery, ExplanationOut, presentAnswer, presentExplanation } from '../schemas/explanations';
import { SessionIdParams } from '../schemas/sessions';

function context(input: HandlerInput<unknown, unknown, unknown, Auth>): ExplainContext {
  return { em: input.em, temporal: input.deps.temporal, tenantId: input.auth.tenant.id, settings: input.deps.config };
}

const explainErrors = {
  404: { description: 'No such session for this tenant', schema: ErrorSchema },
  409: { description: 'The session is still pending (not analysed yet)', schema: ErrorSchema },
  429: { description: "The organization's daily LLM token budget is used up (Retry-After: when it resets)", schema: ErrorSchema },
  503: {
    description: 'Still being generated after the wait limit (it is cached when done: retry after Retry-After seconds), the LLM or the workflow engine is unavailable',
    schema: ErrorSchema,
  },
};

const EXPLAIN_DESCRIPTION =
  'Cached per (session, analysis version, language, style): a new analysis of the session gets a new explanation. ' +
  'With ANTHROPIC_API_KEY configured, an LLM writes it from tools that read the session (every number it cites is checked against them); ' +
  'otherwise a deterministic explainer writes it (labelled as generated without an LLM; en, de, nl, fr, pl). ' +
  'Concurrent identical requests share one generation; after the wait limit the answer is a 503 with Retry-After and the generation goes on.';

export const explanationRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/sessions/{session_id}/explain',
    summary: 'Get session explanation',
    description: `Returns the cached explanation if there is one, else generates it. \`refresh=true\` generates anew. ${EXPLAIN_DESCRIPTION}`,
    tags: ['LLM'],
    params: SessionIdParams,
    query: ExplainQuery,
    responses: { 200: { description: 'The explanation', schema: ExplanationOut }, ...explainErrors },
    handler: async (input) => {
      const { params, query } = input;
      const e = await explainSession(context(input), params.session_id, { lang: query.lang, style: query.style, force: query.refresh ?? false, langAt: 'query' });
      return { body: presentExplanation(e) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/sessions/{session_id}/explain',
    summary: 'Explain session',
    description: `Explanation of the session's verdict (body optional). \`regenerate: true\` generates anew. ${EXPLAIN_DESCRIPTION}`,
    tags: ['LLM'],
    params: SessionIdParams,
    body: ExplainBody,
    responses: { 200: { description: 'The explanation', schema: ExplanationOut }, ...explainErrors },
    handler: async (input) => {
      const { params, body } = input;
      const e = await explainSession(context(input), params.session_id, { lang: body.lang, style: body.style, force: body.regenerate, langAt: 'body' });
      return { body: presentExplanation(e) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/sessions/{session_id}/ask',
    summary: 'Ask session',
    description:
      'A natural language question about the session, answered by an LLM that reads the session with tools (needs ANTHROPIC_API_KEY: without it, a 503 that says how to enable it). ' +
      'Without `lang`, the answer is in the language of the question. Identical questions about the same analysis are answered from the cache.',
    tags: ['LLM'],
    params: SessionIdParams,
    body: AskBody,
    responses: { 200: { description: 'The answer', schema: AnswerOut }, ...explainErrors },
    handler: async (input) => {
      const { params, body } = input;
      const e = await askSession(context(input), params.session_id, { question: body.question, lang: body.lang ?? undefined });
      return { body: presentAnswer(e) };
    },
  }),
];
