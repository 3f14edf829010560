/** The parsed parts of `Authorization: HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…` (SPEC §2). */
export interface HmacCredentials {
  apiKey: string;
  date: string;
  salt: string;
  signature: string;
}

export type HeaderFailure = 'MissingAuthorization' | 'MalformedAuthorization' | 'InvalidAPIKey' | 'InvalidDate' | 'InvalidSalt' | 'InvalidSignatureFormat';

const MAX_HEADER_LENGTH = 512;
const SCHEME = /^HMAC-SHA256[ \t]+/i;
const PARAM = /^[ \t]*(apiKey|date|salt|signature)=([^,]*?)[ \t]*$/;
export const API_KEY_PATTERN = /^NCS[A-Z0-9]{13}$/;
const SALT = /^[A-Za-z0-9_-]{12,64}$/;
const SIGNATURE = /^[0-9a-fA-F]{64}$/;
/** toISOString() (milliseconds), strftime's %Y-%m-%dT%H:%M:%SZ (none), and offsets such as +09:00. */
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

export type ParseResult = { ok: true; credentials: HmacCredentials; dateMs: number } | { ok: false; reason: HeaderFailure };

/** Parses the header without throwing, whatever it holds. Every parameter exactly once. */
export function parseAuthorization(header: unknown): ParseResult {
  if (typeof header !== 'string' || header.length === 0) return { ok: false, reason: 'MissingAuthorization' };
  if (header.length > MAX_HEADER_LENGTH || !SCHEME.test(header)) return { ok: false, reason: 'MalformedAuthorization' };
  const params = new Map<string, string>();
  for (const part of header.replace(SCHEME, '').split(',')) {
    const match = PARAM.exec(part);
    if (!match || params.has(match[1])) return { ok: false, reason: 'MalformedAuthorization' };
    params.set(match[1], match[2]);
  }
  const apiKey = params.get('apiKey');
  const date = params.get('date');
  const salt = params.get('salt');
  const signature = params.get('signature');
  if (apiKey === undefined || date === undefined || salt === undefined || signature === undefined) {
    return { ok: false, reason: 'MalformedAuthorization' };
  }
  const dateMs = DATE.test(date) ? Date.parse(date) : NaN;
  if (Number.isNaN(dateMs)) return { ok: false, reason: 'InvalidDate' };
  if (!SALT.test(salt)) return { ok: false, reason: 'InvalidSalt' };
  if (!API_KEY_PATTERN.test(apiKey)) return { ok: false, reason: 'InvalidAPIKey' };
  if (!SIGNATURE.test(signature)) return { ok: false, reason: 'InvalidSignatureFormat' };
  return { ok: true, credentials: { apiKey, date, salt, signature: signature.toLowerCase() }, dateMs };
}
