// One HTTP attempt of a webhook delivery, and what follows from its outcome. Every attempt is
// recorded when it starts (so an attempt whose worker died still shows) and completed with its
// time, HTTP status, duration and the first 1 KiB of the answer or the error. No redirect is
// followed, at most 64 KiB of an answer is read, and the connection goes to the address that
// passed the SSRF check (url-safety.ts). Temporal-free: the activity maps outcomes to retries.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { deliveryBody } from './events';
import { decryptSecret, requireKey, signatureHeader } from './secrets';
import type { WebhookSettings } from './settings';
import { resolveTarget, type ResolvedAddress } from './url-safety';

/** Read at most this much of an answer; keep this much of it. */
const READ_LIMIT = 64 * 1024;
const KEEP = 1024;

export type AttemptOutcome =
  | { kind: 'delivered'; httpStatus: number }
  | { kind: 'gone'; httpStatus: 410 }
  | { kind: 'failed'; reason: string; httpStatus?: number; retryAfterMs?: number }
  | { kind: 'cancelled'; reason: string };

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** POSTs `body` to the vetted address; resolves with the answer (status, headers, first KiB) or rejects. */
function post(url: URL, address: ResolvedAddress, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpAnswer> {
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    else cb(null, address.address, address.family);
  };
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, agent: false });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let read = 0;
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, KEEP) });
      };
      res.on('data', (chunk: Buffer) => {
        if (read < KEEP) chunks.push(chunk.subarray(0, KEEP - read));
        read += chunk.length;
        if (read >= READ_LIMIT) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.end(body);
  });
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Attempt number `attempt` of a delivery. A delivery that is gone (its endpoint was deleted) or
 * whose endpoint is disabled is cancelled; one already delivered is not sent again.
 */
export async function attemptDelivery(em: EntityManager, settings: WebhookSettings, input: { tenantId: string; deliveryId: string; attempt: number; timeoutMs: number; retryAfterCapMs: number }): Promise<AttemptOutcome> {
  const { tenantId, deliveryId, attempt } = input;
  const [d] = await sql(
    em,
    `select d.status, d.event_type, e.payload, ep.id as endpoint_id, ep.url, ep.enabled, ep.secret_enc, ep.previous_secret_enc, ep.previous_secret_expires_at
       from webhook_deliveries d join webhook_events e on e.id = d.event_id join webhook_endpoints ep on ep.id = d.endpoint_id
      where d.id = ? and d.tenant_id = ?`,
    [deliveryId, tenantId],
  );
  if (!d) return { kind: 'cancelled', reason: 'the delivery no longer exists (its endpoint was deleted)' };
  if (d.status === 'delivered') return { kind: 'delivered', httpStatus: 200 };
  if (!d.enabled && d.event_type !== 'webhook.test') {
    await sql(em, `update webhook_deliveries set status = 'cancelled', completed_at = now() where id = ? and tenant_id = ? and status = 'pending'`, [deliveryId, tenantId]);
    return { kind: 'cancelled', reason: 'the endpoint is disabled' };
  }
  const now = settings.now();
  // Earlier attempts without an outcome ran on a worker that was lost.
  await sql(em, `update webhook_attempts set error = 'no outcome: the worker running this attempt was lost' where delivery_id = ? and tenant_id = ? and duration_ms is null and error is null`, [deliveryId, tenantId]);
  const [{ id: attemptId }] = await sql(
    em,
    `insert into webhook_attempts (id, tenant_id, delivery_id, attempt, started_at) values (gen_random_uuid(), ?, ?, ?, now()) returning id`,
    [tenantId, deliveryId, attempt],
  );
  await sql(em, `update webhook_deliveries set attempt_count = ?, status = 'pending', completed_at = null where id = ? and tenant_id = ?`, [attempt, deliveryId, tenantId]);

  const started = performance.now();
  const finish = async (outcome: AttemptOutcome, answer?: HttpAnswer, error?: string): Promise<AttemptOutcome> => {
    const durationMs = Math.round(performance.now() - started);
    await sql(em, `update webhook_attempts set duration_ms = ?, http_status = ?, response = ?, error = ? where id = ?`, [durationMs, answer?.status ?? null, answer?.body ?? null, error?.slice(0, KEEP) ?? null, attemptId]);
    if (outcome.kind === 'delivered') {
      await em.transactional(async (tem) => {
        await sql(tem, `update webhook_deliveries set status = 'delivered', http_status = ?, completed_at = now() where id = ? and tenant_id = ?`, [outcome.httpStatus, deliveryId, tenantId]);
        await sql(tem, `update webhook_endpoints set failure_count = 0, failing_since = null where id = ? and tenant_id = ? and failure_count > 0`, [d.endpoint_id, tenantId]);
      });
    } else if (outcome.kind === 'gone') {
      await em.transactional(async (tem) => {
        await sql(tem, `update webhook_deliveries set status = 'failed', http_status = 410, completed_at = now() where id = ? and tenant_id = ?`, [deliveryId, tenantId]);
        await sql(tem, `update webhook_endpoints set enabled = false, disabled_at = coalesce(disabled_at, ?), updated_at = now() where id = ? and tenant_id = ?`, [now, d.endpoint_id, tenantId]);
      });
    } else if (answer) {
      await sql(em, `update webhook_deliveries set http_status = ? where id = ? and tenant_id = ?`, [answer.status, deliveryId, tenantId]);
    }
    return outcome;
  };

  const key = requireKey(settings.key);
  const url = new URL(d.url as string);
  const resolved = await resolveTarget(url, settings);
  const target: typeof resolved =
    resolved.ok && settings.egress && !settings.egress(resolved.address) ? { ok: false, reason: `refused: ${resolved.address.address} is outside this deployment's allowed egress` } : resolved;
  if (!target.ok) return finish({ kind: 'failed', reason: target.reason }, undefined, target.reason);

  const secrets = [decryptSecret(key, d.secret_enc as string)];
  if (d.previous_secret_enc && d.previous_secret_expires_at && new Date(d.previous_secret_expires_at as string) > now) secrets.push(decryptSecret(key, d.previous_secret_enc as string));
  const body = deliveryBody(d.event_type as string, d.payload as string, deliveryId);
  // The timestamp is the wall clock (receivers check it against theirs); `now` decides which secrets sign.
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'EVNI-Webhooks/1.0',
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, deliveryId, timestamp, body),
  };
  let answer: HttpAnswer;
  try {
    answer = await post(url, target.address, headers, body, input.timeoutMs);
  } catch (err) {
    const reason = `request failed: ${(err as Error).message}`;
    return finish({ kind: 'failed', reason }, undefined, reason);
  }
  if (answer.status >= 200 && answer.status < 300) return finish({ kind: 'delivered', httpStatus: answer.status }, answer);
  if (answer.status === 410) return finish({ kind: 'gone', httpStatus: 410 }, answer);
  const wait = answer.status === 429 || answer.status === 503 ? retryAfterMs(answer.headers['retry-after'], Date.now()) : undefined;
  const reason = answer.status >= 300 && answer.status < 400 ? `HTTP ${answer.status} (redirects are not followed)` : `HTTP ${answer.status}`;
  return finish({ kind: 'failed', reason, httpStatus: answer.status, retryAfterMs: wait === undefined ? undefined : Math.min(wait, input.retryAfterCapMs) }, answer);
}

/**
 * The delivery's last attempt failed: it is failed, and its endpoint's run of failed deliveries
 * grows. The endpoint is disabled when every delivery has failed for `disableAfterMs` (default 5
 * days), or after `disableAfterFailures` failed deliveries in a row (when set).
 */
export async function failDelivery(em: EntityManager, settings: WebhookSettings, input: { tenantId: string; deliveryId: string }): Promise<{ disabled: boolean }> {
  const { tenantId, deliveryId } = input;
  const now = settings.now();
  return em.transactional(async (tem) => {
    const [d] = await sql(tem, `update webhook_deliveries set status = 'failed', completed_at = now() where id = ? and tenant_id = ? and status = 'pending' returning endpoint_id, created_at`, [deliveryId, tenantId]);
    if (!d) return { disabled: false };
    const [ep] = await sql(
      tem,
      `update webhook_endpoints set failure_count = failure_count + 1, failing_since = coalesce(failing_since, ?) where id = ? and tenant_id = ? returning failure_count, failing_since, enabled`,
      [d.created_at, d.endpoint_id, tenantId],
    );
    if (!ep || !ep.enabled) return { disabled: false };
    const byCount = settings.disableAfterFailures > 0 && (ep.failure_count as number) >= settings.disableAfterFailures;
    const byTime = now.getTime() - new Date(ep.failing_since as string).getTime() >= settings.disableAfterMs;
    if (!byCount && !byTime) return { disabled: false };
    await sql(tem, `update webhook_endpoints set enabled = false, disabled_at = ?, updated_at = now() where id = ? and tenant_id = ?`, [now, d.endpoint_id, tenantId]);
    return { disabled: true };
  });
}
