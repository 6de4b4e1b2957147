// Where a webhook may point (SSRF protection). At creation: https URLs of the documented form
// (WEBHOOK_URL_PATTERN) only (plain http only to a
// literal loopback address, behind the development setting), and a host that is a literal
// private, loopback, link-local, multicast, metadata or otherwise special address is refused. At
// delivery: names are resolved and every address they resolve to must be public unicast (IPv4 and
// IPv6, IPv4-mapped IPv6 judged as the IPv4 address it maps); the request then goes to that vetted
// address (no second lookup a rebinding DNS could answer differently).
import dns from 'node:dns';
import ipaddr from 'ipaddr.js';
import { invalidAt } from '../errors';

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to its addresses (injectable: tests map names to chosen addresses). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Names that are loopback or cloud metadata by definition, whatever a resolver says. */
const FORBIDDEN_NAMES = /^(localhost|.*\.localhost|metadata|metadata\.google\.internal|instance-data|.*\.internal)$/i;

/** The host of a URL without IPv6 brackets and a trailing dot. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

/** The special range an address is in (`loopback`, `private`, `linkLocal`, …), or null for public unicast. */
export function addressRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  return range === 'unicast' ? null : range;
}

const isLiteral = (host: string) => ipaddr.isValid(host);

// The form of a webhook URL (the API document's `pattern` for `url`, and the server's first check):
// `https://`, a host, an optional port, then RFC 3986 path, query and fragment characters
// (percent-escapes complete). The host is a dotted-decimal IPv4 address, a bracketed IPv6 address
// (RFC 3986), or a DNS name of at least two labels (letters, digits, inner hyphens; the last
// label starts with a letter and is not `localhost` or `internal`; a trailing dot is allowed).
// Written for both ECMAScript and Python regular expressions (no \d, \w, \s or flags).
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
const upTo = (n: number) => (n === 0 ? '' : `(?:${H16}:){0,${n}}`);
const IPV6 = `(?:${[
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:${upTo(1)}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:${upTo(2)}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:${upTo(3)}${H16})?::${H16}:${LS32}`,
  `(?:${upTo(4)}${H16})?::${LS32}`,
  `(?:${upTo(5)}${H16})?::${H16}`,
  `(?:${upTo(6)}${H16})?::`,
].join('|')})`;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const caseless = (word: string) => [...word].map((c) => `[${c.toUpperCase()}${c}]`).join('');
const NOT_LAST = (word: string) => `(?!${caseless(word)}\\.?(?![A-Za-z0-9.-]))`;
const TOP_LABEL = `${NOT_LAST('localhost')}${NOT_LAST('internal')}[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?`;
const HOST = `(?:${IPV4}|\\[${IPV6}\\]|(?:${LABEL}\\.)+${TOP_LABEL}\\.?)`;
const PORT = '(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?';
const PCHAR = "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})";
const REST = `(?:/${PCHAR}*)*(?:\\?(?:${PCHAR}|[/?])*)?(?:#(?:${PCHAR}|[/?])*)?`;
/** The documented form of a webhook URL (https only). */
export const WEBHOOK_URL_PATTERN = `^https://${HOST}${PORT}${REST}$`;
const WEBHOOK_URL = new RegExp(WEBHOOK_URL_PATTERN);
/** The same form with plain http, for the development setting's loopback exception only. */
const DEV_URL = new RegExp(`^https?://${HOST}${PORT}${REST}$`);
/** A host label in Punycode (`xn--…`): the URL parser decodes it and refuses invalid Punycode. */
const PUNYCODE_LABEL = /(?:^https?:\/\/|\.)[Xx][Nn]--/;

/** Checks a URL given for an endpoint (422 naming the field); returns it normalised. */
export function checkWebhookUrl(raw: string, opts: { allowHttpLoopback: boolean }, loc: (string | number)[] = ['body', 'url']): string {
  const refuse = (msg: string) => invalidAt([{ loc, msg }]);
  if (!WEBHOOK_URL.test(raw) && !(opts.allowHttpLoopback && DEV_URL.test(raw))) {
    throw refuse('not an https URL of the documented form (https://host[:port][/path][?query][#fragment], a public DNS name or IP address as host)');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Of the documented form, the URL parser refuses only a Punycode label that does not decode.
    throw refuse(PUNYCODE_LABEL.test(raw) ? 'the host has an xn-- label that is not valid Punycode' : 'not a valid absolute URL');
  }
  if (url.username || url.password) throw refuse('credentials in the URL are not accepted');
  const host = bareHost(url);
  const range = isLiteral(host) ? addressRange(host) : null;
  const devLoopback = opts.allowHttpLoopback && range === 'loopback';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && devLoopback)) throw refuse('the URL must use https');
  if (range && !devLoopback) throw refuse(`the host ${host} is a ${range} address: webhooks go to public addresses only`);
  if (!isLiteral(host) && (FORBIDDEN_NAMES.test(host) || !host.includes('.'))) throw refuse(`the host ${host} is not a public name`);
  if (url.hash) url.hash = '';
  return url.toString();
}

/**
 * The address a delivery connects to, or why it may not: a literal host is checked as at
 * creation; a name is resolved and refused if any of its addresses is not public unicast.
 */
export async function resolveTarget(url: URL, opts: { allowHttpLoopback: boolean; resolve: Resolver }): Promise<{ ok: true; address: ResolvedAddress } | { ok: false; reason: string }> {
  const host = bareHost(url);
  if (isLiteral(host)) {
    const range = addressRange(host);
    const devLoopback = opts.allowHttpLoopback && range === 'loopback';
    if (range && !devLoopback) return { ok: false, reason: `refused: ${host} is a ${range} address` };
    if (url.protocol !== 'https:' && !devLoopback) return { ok: false, reason: 'refused: plain http' };
    return { ok: true, address: { address: host, family: host.includes(':') ? 6 : 4 } };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'refused: plain http' };
  if (FORBIDDEN_NAMES.test(host)) return { ok: false, reason: `refused: ${host} is not a public name` };
  let addresses: ResolvedAddress[];
  try {
    addresses = await opts.resolve(host);
  } catch (err) {
    return { ok: false, reason: `could not resolve ${host}: ${(err as Error).message}` };
  }
  if (addresses.length === 0) return { ok: false, reason: `could not resolve ${host}: no address` };
  for (const a of addresses) {
    const range = addressRange(a.address);
    if (range) return { ok: false, reason: `refused: ${host} resolves to ${a.address}, a ${range} address` };
  }
  return { ok: true, address: addresses[0] };
}
