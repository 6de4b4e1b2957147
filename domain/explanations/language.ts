// Languages and styles of explanations. The offline explainer writes five languages; with an LLM any
// ISO 639-1 language can be asked for (the model writes it).
export const OFFLINE_LANGUAGES = ['en', 'de', 'nl', 'fr', 'pl'] as const;
export type OfflineLanguage = (typeof OFFLINE_LANGUAGES)[number];

/** `detailed` (default): what, where, how sure, usual causes, what to check; `brief`: a few lines; `technical`: detailed plus the contract's rules and bucket ranges. */
export const STYLES = ['detailed', 'brief', 'technical'] as const;
export type ExplanationStyle = (typeof STYLES)[number];

/** Names the LLM is told to write in (a code it does not know here is passed as the code). */
export const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'German',
  nl: 'Dutch',
  fr: 'French',
  pl: 'Polish',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  sv: 'Swedish',
  da: 'Danish',
  nb: 'Norwegian Bokmål',
  no: 'Norwegian',
  fi: 'Finnish',
  cs: 'Czech',
  sk: 'Slovak',
  hu: 'Hungarian',
  ro: 'Romanian',
  el: 'Greek',
  tr: 'Turkish',
  uk: 'Ukrainian',
  ja: 'Japanese',
  zh: 'Chinese',
  ko: 'Korean',
};

/** A language tag as clients may send it (`en`, `en-GB`, `pt_BR`); the API's schemas check it. */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;

/** A language tag as explanations key it: its primary subtag in lower case (`en-GB` → `en`). */
export function primaryLanguage(tag: string): string {
  return tag.trim().split(/[-_]/)[0].toLowerCase();
}

export function isOfflineLanguage(lang: string): lang is OfflineLanguage {
  return (OFFLINE_LANGUAGES as readonly string[]).includes(lang);
}
