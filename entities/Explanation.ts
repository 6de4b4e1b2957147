import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { ChargingSession } from './ChargingSession';
import { Tenant } from './Tenant';
import type { NumbersCheck, TokenUsage } from '../workflows/explanation/contract';

export type { NumbersCheck, TokenUsage };

/**
 * One generated explanation of a session (`explain`) or answer to a question about it (`ask`),
 * cached per (session, analysis version, kind, language, style, generator[, question]): `cacheKey`
 * says which, and the explanation workflow's id is derived from it.
 */
export class Explanation {
  id: string = randomUUID();
  tenant: Tenant;
  session: ChargingSession;
  cacheKey: string;
  kind: 'explain' | 'ask';
  /** `analyzed_at` of the analysis it explains (epoch ms). */
  analysisVersion: string;
  lang: string;
  style: string;
  question: string | null = null;
  /** `offline` (the deterministic explainer) or `llm:<model>`. */
  generator: string;
  text: string;
  numbersCheck: NumbersCheck | null = null;
  usage: TokenUsage | null = null;
  /** Model calls (tool-use rounds) and tool calls it took. */
  rounds = 0;
  toolCalls = 0;
  createdAt: Date = new Date();

  constructor(init: Pick<Explanation, 'tenant' | 'session' | 'cacheKey' | 'kind' | 'analysisVersion' | 'lang' | 'style' | 'generator' | 'text'>) {
    this.tenant = init.tenant;
    this.session = init.session;
    this.cacheKey = init.cacheKey;
    this.kind = init.kind;
    this.analysisVersion = init.analysisVersion;
    this.lang = init.lang;
    this.style = init.style;
    this.generator = init.generator;
    this.text = init.text;
  }
}

export const ExplanationSchema = new EntitySchema<Explanation>({
  class: Explanation,
  tableName: 'explanations',
  uniques: [{ properties: ['tenant', 'cacheKey'] }],
  indexes: [{ properties: ['session'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    session: { kind: 'm:1', entity: () => ChargingSession, deleteRule: 'cascade', index: false },
    cacheKey: { type: 'string', length: 128 },
    kind: { type: 'string', length: 16 },
    analysisVersion: { type: 'string', length: 40 },
    lang: { type: 'string', length: 16 },
    style: { type: 'string', length: 16 },
    question: { type: 'text', nullable: true },
    generator: { type: 'string', length: 100 },
    text: { type: 'text' },
    numbersCheck: { type: 'json', nullable: true },
    usage: { type: 'json', nullable: true },
    rounds: { type: 'integer', default: 0 },
    toolCalls: { type: 'integer', default: 0 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** Tokens an organization's explanations used on one UTC day (the daily budget counts these). */
export class LlmUsage {
  tenant!: Tenant;
  day!: string;
  inputTokens = 0;
  outputTokens = 0;
  cacheCreationInputTokens = 0;
  cacheReadInputTokens = 0;
  calls = 0;
}

export const LlmUsageSchema = new EntitySchema<LlmUsage>({
  class: LlmUsage,
  tableName: 'llm_usage',
  properties: {
    tenant: { kind: 'm:1', entity: () => Tenant, primary: true, deleteRule: 'cascade' },
    day: { type: 'date', primary: true },
    inputTokens: { type: 'integer', columnType: 'bigint', default: 0 },
    outputTokens: { type: 'integer', columnType: 'bigint', default: 0 },
    cacheCreationInputTokens: { type: 'integer', columnType: 'bigint', default: 0 },
    cacheReadInputTokens: { type: 'integer', columnType: 'bigint', default: 0 },
    calls: { type: 'integer', default: 0 },
  },
});
