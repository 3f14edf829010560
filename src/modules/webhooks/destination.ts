import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
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

const LOOKUP_TIMEOUT_MS = 5_000;

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

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** The range of an address that is not public unicast (`loopback`, `private`, …); undefined for a public one. */
export function nonPublicRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? undefined : range;
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

/** The addresses a destination's name resolves to, each checked; an IP address stands for itself. */
export async function resolveDestination(destination: Destination, lookup: Lookup = dnsLookup as Lookup): Promise<LookupAddress[]> {
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
      if (range) throw new DestinationRefused(`url: ${destination.host}은(는) 공개되지 않은 주소(${address}, ${range})를 가리킵니다.`);
    }
  }
  if (addresses.length === 0) throw new DestinationRefused(`url: ${destination.host}의 주소를 찾을 수 없습니다.`);
  return addresses;
}
