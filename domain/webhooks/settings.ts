// What webhook code needs from configuration, in one object: the API (creating endpoints, checking
// URLs), the dispatcher (the retry policy it gives each delivery) and the delivery activity
// (signing, SSRF checks, timeouts). Tests pass their own (a stub resolver, a clock, short delays).
import type { Config } from '../../config';
import { parseEncryptionKey } from './secrets';
import { systemResolver, type ResolvedAddress, type Resolver } from './url-safety';

export interface WebhookSettings {
  /** AES-256-GCM key for the secrets at rest; undefined: webhooks are not configured (503). */
  key: Buffer | undefined;
  /** Development only: plain http to a literal loopback address. */
  allowHttpLoopback: boolean;
  retryDelaysMs: number[];
  retryAfterCapMs: number;
  timeoutMs: number;
  disableAfterMs: number;
  /** 0: no count limit. */
  disableAfterFailures: number;
  resolve: Resolver;
  /**
   * Where a delivery may connect, after the SSRF checks (undefined: any public address). Test
   * stacks allow loopback only, so that no test run, fuzzing included, sends a request off the machine.
   */
  egress?: (address: ResolvedAddress) => boolean;
  now: () => Date;
}

export function webhookSettings(config: Config, overrides: Partial<WebhookSettings> = {}): WebhookSettings {
  const retryDelaysMs = config.webhookRetryDelaysMs;
  if (retryDelaysMs.some((d) => !Number.isInteger(d) || d < 0)) throw new Error('EVNI_WEBHOOK_RETRY_DELAYS_MS must be comma-separated non-negative integers (ms)');
  return {
    key: parseEncryptionKey(config.webhookSecretKey),
    allowHttpLoopback: config.webhookAllowHttpLoopback,
    retryDelaysMs,
    retryAfterCapMs: config.webhookRetryAfterCapMs,
    timeoutMs: config.webhookTimeoutMs,
    disableAfterMs: config.webhookDisableAfterMs,
    disableAfterFailures: config.webhookDisableAfterFailures,
    resolve: systemResolver,
    now: () => new Date(),
    ...overrides,
  };
}

/** The retry policy the dispatcher gives each delivery workflow. */
export const deliveryPolicy = (s: WebhookSettings) => ({ retryDelaysMs: s.retryDelaysMs, retryAfterCapMs: s.retryAfterCapMs, timeoutMs: s.timeoutMs });
