// Webhook signing secrets: Standard Webhooks `whsec_<base64 of 32 random bytes>`, stored encrypted
// with AES-256-GCM under the key from configuration (EVNI_WEBHOOK_SECRET_KEY), and the signature
// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (https://www.standardwebhooks.com/).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { unavailable } from '../errors';

export const SECRET_PREFIX = 'whsec_';
/** After a rotation the old secret signs beside the new one this long. */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

export const newSecret = () => SECRET_PREFIX + randomBytes(32).toString('base64');

/** The 32-byte key from its configured text (base64 or hex); undefined when webhooks are not configured. */
export function parseEncryptionKey(text: string | undefined): Buffer | undefined {
  if (!text) return undefined;
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('EVNI_WEBHOOK_SECRET_KEY must be 32 bytes, base64 or hex');
  return key;
}

export function requireKey(key: Buffer | undefined): Buffer {
  if (!key) throw unavailable('Webhooks are not configured on this server (EVNI_WEBHOOK_SECRET_KEY is not set)', 60);
  return key;
}

/** `v1.<base64 of iv | tag | ciphertext>`. */
export function encryptSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

export function decryptSecret(key: Buffer, stored: string): string {
  if (!stored.startsWith('v1.')) throw new Error('unknown secret encoding');
  const raw = Buffer.from(stored.slice(3), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** One `v1,<signature>` per secret, space-separated (two during a rotation's grace period). */
export function signatureHeader(secrets: string[], id: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
