// Webhook pieces without PostgreSQL or Temporal: URL checks at creation (SSRF), address ranges
// (IPv4, IPv6, mapped forms), delivery-time resolution with a stub resolver, signatures checked by
// the third-party `standardwebhooks` package, secrets at rest, bodies and Retry-After.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { DomainError } from '../../domain/errors';
import { deliveryBody } from '../../domain/webhooks/events';
import { retryAfterMs } from '../../domain/webhooks/deliver';
import { decryptSecret, encryptSecret, newSecret, signatureHeader } from '../../domain/webhooks/secrets';
import { addressRange, checkWebhookUrl, resolveTarget, WEBHOOK_URL_PATTERN } from '../../domain/webhooks/url-safety';

const strict = { allowHttpLoopback: false };
const dev = { allowHttpLoopback: true };

describe('webhook URL safety', () => {
  it('refuses at creation: plain http, literal private / loopback / link-local / metadata / multicast hosts, local names', () => {
    for (const url of [
      'http://hooks.example.com/',
      'https://127.0.0.1/',
      'https://127.1.2.3/',
      'https://0x7f000001/',
      'https://2130706433/',
      'https://10.0.0.1/',
      'https://172.16.5.5/',
      'https://192.168.1.1/',
      'https://100.100.100.200/',
      'https://169.254.169.254/latest/meta-data/',
      'https://0.0.0.0/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://[::1]/',
      'https://[::]/',
      'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[fe80::1]/',
      'https://[fd00:ec2::254]/',
      'https://[ff02::1]/',
      'https://localhost/',
      'https://api.localhost/',
      'https://metadata.google.internal/',
      'https://intranet/',
      'https://user:pw@hooks.example.com/',
      'ftp://hooks.example.com/',
    ]) {
      assert.throws(() => checkWebhookUrl(url, strict), (e: unknown) => e instanceof DomainError && e.kind === 'invalid', url);
    }
  });

  it('accepts public https URLs; the development setting allows literal loopback (http too), nothing else private', () => {
    assert.equal(checkWebhookUrl('https://hooks.example.com/a?b=1#frag', strict), 'https://hooks.example.com/a?b=1');
    assert.equal(checkWebhookUrl('https://93.184.216.34/x', strict), 'https://93.184.216.34/x');
    assert.equal(checkWebhookUrl('https://[2606:4700::1111]/x', strict), 'https://[2606:4700::1111]/x');
    assert.equal(checkWebhookUrl('http://127.0.0.1:9000/x', dev), 'http://127.0.0.1:9000/x');
    assert.equal(checkWebhookUrl('http://[::1]:9000/x', dev), 'http://[::1]:9000/x');
    assert.throws(() => checkWebhookUrl('http://127.0.0.1:9000/x', strict));
    assert.throws(() => checkWebhookUrl('http://10.0.0.1/x', dev));
    assert.throws(() => checkWebhookUrl('http://hooks.example.com/x', dev));
  });

  it('the documented pattern is the form the server checks: what it admits is accepted unless a documented data rule refuses it', () => {
    const documented = new RegExp(WEBHOOK_URL_PATTERN);
    for (const url of [
      'https://hooks.example.com',
      'https://Hooks.Example.COM.:8443/a/b;c=d/%7Euser?x=1&y=/z?#top',
      'https://xn--bcher-kva.example/',
      'https://a.localhost.example.com/',
      'https://93.184.216.34/x',
      'https://[2606:4700::1111]/x',
      'https://[1::2:3:4:5:6:7]/',
      'https://[::ffff:93.184.216.34]/',
    ]) {
      assert.ok(documented.test(url), url);
      assert.doesNotThrow(() => checkWebhookUrl(url, strict), url);
    }
    // Outside the pattern: refused, though the URL parser would take them.
    for (const url of ['HTTPS://hooks.example.com/', 'https:hooks.example.com', 'https://hooks.example.com\\a', 'https://a_b.example.com/', 'https://-a.example.com/', 'https://a.example.com:0/', 'https://a.example.com/%zz', 'https://a.example.com/ x', ' https://a.example.com/', 'https://a.2b/']) {
      assert.ok(!documented.test(url), url);
      assert.throws(() => checkWebhookUrl(url, strict), (e: unknown) => e instanceof DomainError && e.kind === 'invalid', url);
    }
    // The data rules the description states: a literal non-public address, a label that is not valid Punycode.
    for (const [url, msg] of [
      ['https://10.0.0.1/', /is a private address/],
      ['https://[fe80::1]/', /is a linkLocal address/],
      ['https://xn--a.example.com/', /not valid Punycode/],
    ] as const) {
      assert.ok(documented.test(url), url);
      assert.throws(() => checkWebhookUrl(url, strict), (e: unknown) => e instanceof DomainError && msg.test(JSON.stringify(e)), url);
    }
  });

  it('address ranges judge IPv4-mapped IPv6 as the IPv4 address', () => {
    assert.equal(addressRange('::ffff:10.0.0.1'), 'private');
    assert.equal(addressRange('::ffff:127.0.0.1'), 'loopback');
    assert.equal(addressRange('::ffff:169.254.169.254'), 'linkLocal');
    assert.equal(addressRange('::ffff:93.184.216.34'), null);
    assert.equal(addressRange('8.8.8.8'), null);
    assert.equal(addressRange('::1'), 'loopback');
  });

  it('at delivery, a name is refused when any address it resolves to is not public (loopback too, even with the development setting)', async () => {
    const table: Record<string, string[]> = {
      'a.example.test': ['127.0.0.1'],
      'b.example.test': ['10.1.1.1'],
      'c.example.test': ['169.254.169.254'],
      'd.example.test': ['::1'],
      'e.example.test': ['::ffff:10.0.0.1'],
      'f.example.test': ['93.184.216.34', '192.168.0.9'],
      'ok.example.test': ['93.184.216.34'],
    };
    const resolve = async (h: string) => table[h].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    for (const host of Object.keys(table)) {
      const r = await resolveTarget(new URL(`https://${host}/`), { ...dev, resolve });
      if (host === 'ok.example.test') assert.deepEqual(r, { ok: true, address: { address: '93.184.216.34', family: 4 } });
      else assert.equal(r.ok, false, host);
    }
    const literal = await resolveTarget(new URL('http://127.0.0.1:1/'), { ...strict, resolve });
    assert.equal(literal.ok, false);
  });
});

describe('webhook signing and secrets', () => {
  it('signatures verify with the standardwebhooks package; two secrets give two signatures, each verifying', () => {
    const [a, b] = [newSecret(), newSecret()];
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = 'msg_1';
    const ts = Math.floor(Date.now() / 1000);
    const body = deliveryBody('webhook.test', '{"message":"hi"}', id);
    assert.deepEqual(JSON.parse(body), { event: 'webhook.test', message: 'hi', webhook_id: id });
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([a, b], id, ts, body) };
    assert.deepEqual(new Webhook(a).verify(body, headers), JSON.parse(body));
    assert.deepEqual(new Webhook(b).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(newSecret()).verify(body, headers));
    assert.throws(() => new Webhook(a).verify(body + ' ', headers));
  });

  it('secrets are encrypted at rest (AES-256-GCM): round trip, a wrong key fails', () => {
    const key = randomBytes(32);
    const secret = newSecret();
    const stored = encryptSecret(key, secret);
    assert.ok(!stored.includes(secret.slice(6, 20)));
    assert.equal(decryptSecret(key, stored), secret);
    assert.throws(() => decryptSecret(randomBytes(32), stored));
  });

  it('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('7', 0), 7000);
    assert.equal(retryAfterMs(new Date(60_000).toUTCString(), 0), 60_000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(undefined, 0), undefined);
  });

  it('a body with no fields', () => {
    assert.deepEqual(JSON.parse(deliveryBody('batch.completed', '{}', 'x')), { event: 'batch.completed', webhook_id: 'x' });
  });
});
