import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may send (SPEC §14): `https` to a public address. Plain `http`, and addresses in
 * loopback, private, link-local (cloud metadata: 169.254.169.254), shared, reserved or any other
 * range that is not public unicast (IPv4-mapped IPv6 read as the IPv4 it holds), only for a host
 * listed in WEBHOOK_ALLOWED_HOSTS. The ranges are ipaddr.js's, the library Express uses for
 * `trust proxy`.
 *
 * A name is judged by every address it resolves to, at creation and again at each delivery, where
 * the connection is made to the address that was checked (no second lookup a DNS rebinding could
 * answer differently). Redirects are never followed.
 */
export class DestinationRefused extends Error {}

/** How long a name may take to resolve. */
export const LOOKUP_TIMEOUT_MS = 5_000;

export type AllowedHosts = ReadonlySet<string>;

/** WEBHOOK_ALLOWED_HOSTS: names or IP addresses, comma-separated; case and IPv6 brackets do not matter. */
export function parseAllowedHosts(csv: string): AllowedHosts {
  return new Set(
    csv
      .split(',')
      .map((host) => normalizeHost(host.trim()))
      .filter((host) => host !== ''),
  );
}

/** Lower case, without IPv6 brackets or a trailing dot, as a URL's host is matched. */
function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** The range of an address that is not public unicast (`loopback`, `private`, …); undefined for a public one. */
export function nonPublicRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  // ::a.b.c.d (IPv4-compatible, deprecated) is "unicast" to ipaddr.js: refused whatever it holds.
  return parsed.kind() === 'ipv6' && parsed.match(ipaddr.IPv6.parse('::'), 96) ? 'ipv4Compatible' : undefined;
}

export interface Destination {
  url: URL;
  /** The host as matched against the allowed list: lower case, without IPv6 brackets. */
  host: string;
  allowed: boolean;
}

/** The URL's own faults: 400 material, before any lookup. */
export function checkUrl(raw: string, allowedHosts: AllowedHosts): Destination {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefused('url: 올바른 URL이 아닙니다.');
  }
  const host = normalizeHost(url.hostname);
  const allowed = allowedHosts.has(host);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    throw new DestinationRefused('url: https URL이어야 합니다 (http는 WEBHOOK_ALLOWED_HOSTS에 있는 호스트만).');
  }
  if (url.username || url.password) throw new DestinationRefused('url: 사용자 정보(user:password@)를 담을 수 없습니다. 수신자는 서명으로 확인하세요.');
  if (url.hash) throw new DestinationRefused('url: #fragment를 담을 수 없습니다.');
  if (!allowed && isIP(host)) {
    const range = nonPublicRange(host);
    if (range) throw new DestinationRefused(`url: 공개되지 않은 주소(${range})로는 보낼 수 없습니다.`);
  }
  return { url, host, allowed };
}

export type Lookup = (hostname: string, options: { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * Resolves a name with the DNS resolver in Node's event loop (c-ares: A and AAAA records), never
 * with `getaddrinfo`, which runs on libuv's four threads that file and crypto work share: a name
 * server that never answers holds a query, not a thread. /etc/hosts is not read, so `localhost`
 * is not found (refused either way).
 */
const publicLookup: Lookup = (hostname, _options, callback) => {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]).then(([v4, v6]) => {
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length > 0) return callback(null, addresses);
    const failure = (v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : new Error('no address')) as NodeJS.ErrnoException;
    callback(failure, []);
  });
};

/**
 * The addresses a destination's name resolves to, each checked; an IP address stands for itself. A
 * host of WEBHOOK_ALLOWED_HOSTS, which an operator trusts, is resolved as the system does (hosts
 * file included); any other with `publicLookup`.
 */
export async function resolveDestination(destination: Destination, lookup: Lookup = destination.allowed ? (dnsLookup as Lookup) : publicLookup): Promise<LookupAddress[]> {
  const family = isIP(destination.host);
  if (family !== 0) return [{ address: destination.host, family }];
  let timer: NodeJS.Timeout | undefined;
  const addresses = await Promise.race([
    new Promise<LookupAddress[]>((resolve, reject) =>
      lookup(destination.host, { all: true }, (error, found) => (error ? reject(new DestinationRefused(`url: ${destination.host}의 주소를 찾을 수 없습니다 (${error.code ?? error.message}).`)) : resolve(found))),
    ),
    // A resolver that does not answer must not hold a request (nor a worker) for long.
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DestinationRefused(`url: ${destination.host}의 주소를 ${LOOKUP_TIMEOUT_MS / 1000}초 안에 찾지 못했습니다.`)), LOOKUP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  if (!destination.allowed) {
    for (const { address } of addresses) {
      const range = nonPublicRange(address);
      // The range only, never the address: a caller must not map the internal network by trying names.
      if (range) throw new DestinationRefused(`url: ${destination.host}은(는) 공개되지 않은 주소(${range})를 가리킵니다.`);
    }
  }
  if (addresses.length === 0) throw new DestinationRefused(`url: ${destination.host}의 주소를 찾을 수 없습니다.`);
  return addresses;
}
