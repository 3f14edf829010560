import { randomInt } from 'node:crypto';

/**
 * Every kind of ID the contract names (its prefix is part of the API: clients and the 400 for an ID
 * of the wrong kind rely on it), including those of modules still to come, so that a module of the
 * contract finds its kind here. A team adding a kind of its own adds one line.
 */
export const ID_PREFIXES = {
  entity: 'CRMET',
  property: 'CRMPP',
  record: 'CRMRC',
  relationshipType: 'CRMRT',
  relationship: 'CRMRL',
  account: 'CRMAC',
  member: 'CRMMB',
  segment: 'CRMSG',
  activity: 'CRMAT',
  event: 'CRMEV',
  job: 'CRMJB',
  webhook: 'CRMWH',
  webhookDelivery: 'CRMWD',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

// In ASCII order, so that counting up in nextTail also sorts up.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function randomUpperAlnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

function timePart(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    pad(date.getUTCFullYear() % 100) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    pad(date.getUTCMilliseconds(), 3)
  );
}

let lastTime = '';
let lastTail = '';

/** The tail after `tail`, as a base-36 counter; undefined when it would overflow. */
function nextTail(tail: string): string | undefined {
  const digits = tail.split('');
  for (let i = digits.length - 1; i >= 0; i--) {
    const index = ALPHABET.indexOf(digits[i]);
    if (index < ALPHABET.length - 1) {
      digits[i] = ALPHABET[index + 1];
      return digits.join('');
    }
    digits[i] = ALPHABET[0];
  }
  return undefined;
}

/**
 * `<5-letter prefix>1<yyMMddHHmmssSSS UTC><11 × [A-Z0-9]>`, 32 characters (SPEC §1). The tail is
 * random, except that IDs made by this process within the same millisecond count up from the
 * previous one (as ULIDs do), so a batch created together lists in creation order.
 */
export function generateId(kind: IdKind, now: Date = new Date()): string {
  const time = timePart(now);
  const tail = (time === lastTime && nextTail(lastTail)) || randomUpperAlnum(11);
  lastTime = time;
  lastTail = tail;
  return `${ID_PREFIXES[kind]}1${time}${tail}`;
}

const SHAPE = /^([A-Z]{5})1(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})[A-Z0-9]{11}$/;

/** True when `value` is a 32-character ID of the given kind whose time part is a real UTC instant. */
export function isId(value: unknown, kind: IdKind): value is string {
  if (typeof value !== 'string' || value.length !== 32) return false;
  const m = SHAPE.exec(value);
  if (!m || m[1] !== ID_PREFIXES[kind]) return false;
  const [yy, MM, dd, HH, mm, ss] = m.slice(2, 8).map(Number);
  if (MM < 1 || MM > 12 || dd < 1 || HH > 23 || mm > 59 || ss > 59) return false;
  const daysInMonth = new Date(Date.UTC(2000 + yy, MM, 0)).getUTCDate();
  return dd <= daysInMonth;
}
