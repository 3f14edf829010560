import fc from 'fast-check';
import { parseAuthorization } from './authorization-header';

const API_KEY = 'NCS0123456789ABC';
const SALT = 'a1b2c3d4e5f6a7b8';
const SIGNATURE = 'ab'.repeat(32);

/** The header of SPEC §2 from its parts, `, ` between them unless told otherwise. */
function header(parts: Partial<Record<'apiKey' | 'date' | 'salt' | 'signature', string>> = {}, separator = ', '): string {
  const all = { apiKey: API_KEY, date: '2026-04-21T08:27:46.123Z', salt: SALT, signature: SIGNATURE, ...parts };
  return `HMAC-SHA256 ${Object.entries(all)
    .map(([name, value]) => `${name}=${value}`)
    .join(separator)}`;
}

describe('parseAuthorization (SPEC §2)', () => {
  describe('accepts the dates real clients send', () => {
    it.each([
      ['new Date().toISOString(): milliseconds and Z', '2026-04-21T08:27:46.123Z', Date.UTC(2026, 3, 21, 8, 27, 46, 123)],
      ['Python’s and date -u’s %Y-%m-%dT%H:%M:%SZ', '2026-04-21T08:27:46Z', Date.UTC(2026, 3, 21, 8, 27, 46)],
      ['an offset as SOLAPI’s SDK sends it (+09:00)', '2026-04-21T17:27:46+09:00', Date.UTC(2026, 3, 21, 8, 27, 46)],
      ['a negative offset (-05:00)', '2026-04-21T03:27:46-05:00', Date.UTC(2026, 3, 21, 8, 27, 46)],
    ])('%s', (_label, date, instant) => {
      expect(parseAuthorization(header({ date }))).toEqual({
        ok: true,
        credentials: { apiKey: API_KEY, date, salt: SALT, signature: SIGNATURE },
        dateMs: instant,
      });
    });
  });

  it('takes the date as sent, for the signature is computed over it', () => {
    const result = parseAuthorization(header({ date: '2026-04-21T17:27:46+09:00' }));
    expect(result.ok && result.credentials.date).toBe('2026-04-21T17:27:46+09:00');
  });

  it.each([
    ['no space after the commas', ','],
    ['one space after the commas', ', '],
    ['several spaces and tabs after the commas', ', \t '],
  ])('accepts %s', (_label, separator) => {
    expect(parseAuthorization(header({}, separator))).toMatchObject({ ok: true, credentials: { apiKey: API_KEY, salt: SALT, signature: SIGNATURE } });
  });

  it('accepts an upper-case hex signature and hands it on in lower case, for a case-insensitive comparison', () => {
    const result = parseAuthorization(header({ signature: SIGNATURE.toUpperCase() }));
    expect(result).toMatchObject({ ok: true, credentials: { signature: SIGNATURE } });
  });

  describe('salt: 12–64 characters of [A-Za-z0-9_-]', () => {
    it.each([
      ['12 characters', 'abcdefABCDEF'],
      ['64 characters', 'a'.repeat(64)],
      ['underscores and hyphens', 'salt_with-dash_'],
    ])('accepts %s', (_label, salt) => {
      expect(parseAuthorization(header({ salt }))).toMatchObject({ ok: true, credentials: { salt } });
    });

    it.each([
      ['11 characters', 'abcdefABCDE'],
      ['65 characters', 'a'.repeat(65)],
      ['a dot', 'salt.with.dots'],
      ['a non-ASCII letter', 'saltsaltsalté'],
      ['nothing', ''],
    ])('refuses %s as InvalidSalt', (_label, salt) => {
      expect(parseAuthorization(header({ salt }))).toEqual({ ok: false, reason: 'InvalidSalt' });
    });
  });

  it.each([
    ['not a date', 'yesterday'],
    ['a date and time without a time zone', '2026-04-21T08:27:46'],
    ['a day without a time', '2026-04-21'],
    ['a space instead of the T', '2026-04-21 08:27:46Z'],
    ['month 13', '2026-13-21T08:27:46Z'],
    ['an epoch number', '1776760066'],
  ])('refuses a date that is %s as InvalidDate', (_label, date) => {
    expect(parseAuthorization(header({ date }))).toEqual({ ok: false, reason: 'InvalidDate' });
  });

  it.each([
    ['lower case', 'ncs0123456789abc'],
    ['another prefix', 'ABC0123456789ABC'],
    ['one character short', 'NCS0123456789AB'],
  ])('refuses an API key in %s as InvalidAPIKey', (_label, apiKey) => {
    expect(parseAuthorization(header({ apiKey }))).toEqual({ ok: false, reason: 'InvalidAPIKey' });
  });

  it.each([
    ['too short', 'abcdef'],
    ['one character too long', `${SIGNATURE}a`],
    ['not hex', 'zz'.repeat(32)],
  ])('refuses a signature %s as InvalidSignatureFormat, before any comparison', (_label, signature) => {
    expect(parseAuthorization(header({ signature }))).toEqual({ ok: false, reason: 'InvalidSignatureFormat' });
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['not a string (a repeated header)', [header(), header()]],
  ])('an Authorization header that is %s is MissingAuthorization', (_label, value) => {
    expect(parseAuthorization(value)).toEqual({ ok: false, reason: 'MissingAuthorization' });
  });

  it.each([
    ['another scheme', header().replace('HMAC-SHA256', 'Bearer')],
    ['no scheme', header().replace('HMAC-SHA256 ', '')],
    ['a missing part', header().replace(/, salt=[^,]+/, '')],
    ['a repeated part', `${header()}, salt=${SALT}`],
    ['an unknown part', `${header()}, nonce=1`],
    ['an empty part', `${header()},`],
    ['a part without a value sign', header().replace('salt=', 'salt ')],
    ['more than 512 characters', header({ salt: 'a'.repeat(64) }) + ` `.repeat(512)],
  ])('a header with %s is MalformedAuthorization', (_label, value) => {
    expect(parseAuthorization(value)).toEqual({ ok: false, reason: 'MalformedAuthorization' });
  });

  it('never throws, whatever the header holds', () => {
    const prefix = fc.constantFrom('', 'HMAC-SHA256 ', `HMAC-SHA256 apiKey=${API_KEY}, `);
    fc.assert(
      fc.property(prefix, fc.oneof(fc.string({ maxLength: 600, size: 'max' }), fc.string({ unit: 'binary', maxLength: 600, size: 'max' })), (p, v) => {
        const result = parseAuthorization(p + v);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
