// Every activity the worker runs, built from the dependencies the worker hands in (no module
// globals): activities stay thin over domain modules and tests can pass their own.
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm';
import type { DetectorRegistry } from '../domain/analysis/types';
import { createBatchActivities } from './batches';
import { createExplanationActivities, type LlmConnection } from './explanations';
import { createFineTuneActivities } from './fine-tune';
import type { FineTuneEnvironment } from '../domain/models/fine-tune-data';
import { createSessionActivities } from './sessions';
import { createShadeActivities } from './shade';
import type { ShadeDetector } from '../domain/shade/types';
import { createWebhookActivities } from './webhooks';
import { createStatisticsActivities } from './statistics';
import type { WebhookSettings } from '../domain/webhooks/settings';

export interface ActivityDeps {
  orm: Orm;
  /** Which detector analyses a tenant's sessions. */
  detectors: DetectorRegistry;
  /** To tell session actors about sessions that batches rewrote. */
  temporal: Client;
  /** Webhook delivery settings (signing key, SSRF rules, clock); default: from configuration. */
  webhooks?: WebhookSettings;
  /** The Messages API's key and base URL for explanations; null: no LLM; default: from configuration. */
  llm?: LlmConnection | null;
  /** The served feature extraction and the fine-tuning folders; absent: fine-tuning jobs fail (non-retryably) at the export. */
  fineTune?: FineTuneEnvironment;
  /** SHADE, the station-day detector (loaded with `loadShadeDetector`); absent: SHADE chunks fail (non-retryably). */
  shade?: ShadeDetector;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createSessionActivities(deps), ...createBatchActivities(deps), ...createWebhookActivities(deps), ...createExplanationActivities(deps), ...createFineTuneActivities(deps), ...createShadeActivities(deps), ...createStatisticsActivities(deps) };
}
