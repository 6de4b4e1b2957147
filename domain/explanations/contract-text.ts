// The detection contract (docs/anomaly-categories.md) as explanations cite it: the whole text for
// the LLM's cached system prompt, and each category's row (meaning, rule of thumb, range reported).
import fs from 'node:fs';
import path from 'node:path';
import { ANOMALY_CATEGORIES, type AnomalyCategory } from '../analysis/types';

const CONTRACT_FILE = path.resolve(__dirname, '..', '..', 'docs', 'anomaly-categories.md');

export interface CategoryContract {
  category: AnomalyCategory;
  meaning: string;
  ruleOfThumb: string;
  rangeReported: string;
}

let text: string | undefined;
let rows: Map<AnomalyCategory, CategoryContract> | undefined;

/** The whole contract, as committed. */
export function contractText(): string {
  text ??= fs.readFileSync(CONTRACT_FILE, 'utf8');
  return text;
}

const unmark = (s: string) => s.replace(/\*\*/g, '').replace(/`/g, '').trim();

/** One category's row of the contract's table. */
export function categoryContract(category: AnomalyCategory): CategoryContract {
  if (!rows) {
    rows = new Map();
    for (const line of contractText().split('\n')) {
      const m = /^\|\s*`([A-Z_]+)`\s*\|(.*)\|\s*$/.exec(line);
      if (!m || !ANOMALY_CATEGORIES.includes(m[1] as AnomalyCategory)) continue;
      const cells = m[2].split('|').map(unmark);
      rows.set(m[1] as AnomalyCategory, { category: m[1] as AnomalyCategory, meaning: cells[0], ruleOfThumb: cells[1], rangeReported: cells[2] });
    }
  }
  const row = rows.get(category);
  if (!row) throw new Error(`the detection contract has no row for ${category}`);
  return row;
}

/** The contract's paragraphs that apply to every category (what is not an anomaly, hard edges). */
export function contractNotes(): string {
  const t = contractText();
  const from = t.indexOf('Not anomalies');
  const to = t.indexOf('## Scores');
  return from >= 0 ? unmark(t.slice(from, to > from ? to : undefined)) : '';
}
