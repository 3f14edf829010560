import { AppException } from '../errors/app.exception';
import { boundedPage, decodeCursor, encodeCursor, MAX_PAGE_BYTES } from './pagination';

const TAG = 'r.dateCreated,r.recordId:DESC';

/** The error decodeCursor throws, for an assertion on its kind (never a crash of another sort). */
function refusal(startKey: string, tag = TAG, arity = 2): unknown {
  try {
    decodeCursor(startKey, tag, arity);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('cursors (SPEC §1: startKey is the nextKey of the previous page)', () => {
  it('decodes the values of a cursor made for the same ordering', () => {
    const cursor = encodeCursor([TAG, '2026-04-21T08:27:46.123Z', 'CRMRC1260421082746123ABCDEFGHIJK']);
    expect(decodeCursor(cursor, TAG, 2)).toEqual(['2026-04-21T08:27:46.123Z', 'CRMRC1260421082746123ABCDEFGHIJK']);
  });

  it('keeps numbers numbers and non-ASCII text intact', () => {
    expect(decodeCursor(encodeCursor([TAG, 42, '홍길동']), TAG, 2)).toEqual([42, '홍길동']);
  });

  it('is URL-safe: a nextKey goes into a query string as it is', () => {
    expect(encodeCursor([TAG, '??>>~~', 'ÿÿÿ'])).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const valid = encodeCursor([TAG, '2026-04-21T08:27:46.123Z', 'CRMRC1260421082746123ABCDEFGHIJK']);
  it.each([
    ['a cursor of another ordering (a foreign tag)', encodeCursor(['r.name,r.recordId:ASC', 'Kim', 'CRMRC1260421082746123ABCDEFGHIJK'])],
    ['a cursor with one value too few', encodeCursor([TAG, 'CRMRC1260421082746123ABCDEFGHIJK'])],
    ['a cursor with one value too many', encodeCursor([TAG, 'a', 'b', 'c'])],
    ['a truncated cursor', valid.slice(0, valid.length - 5)],
    ['a cursor whose tag was tampered with (one character changed)', `${valid.slice(0, 10)}${valid[10] === 'A' ? 'B' : 'A'}${valid.slice(11)}`],
    ['a cursor that is not base64url', '!!!not-base64!!!'],
    ['standard base64 with padding', Buffer.from(JSON.stringify([TAG, 'a', 'b'])).toString('base64') + '=='],
    ['base64url of something that is not JSON', Buffer.from('{"x":1').toString('base64url')],
    ['base64url of a JSON object, not a list', Buffer.from(JSON.stringify({ tag: TAG, values: ['a', 'b'] })).toString('base64url')],
    ['a value that is an object', encodeCursor([TAG, 'a', { $gt: '' } as unknown as string])],
    ['a value that is null', Buffer.from(JSON.stringify([TAG, null, 'b'])).toString('base64url')],
    ['a value that is not a finite number', Buffer.from(`["${TAG}",1e999,"b"]`).toString('base64url')],
    ['an empty string', ''],
  ])('refuses %s as a 400 ValidationError', (_label, startKey) => {
    const error = refusal(startKey);
    expect(error).toBeInstanceOf(AppException);
    expect((error as AppException).toBody()).toEqual({ errorCode: 'ValidationError', errorMessage: expect.stringContaining('startKey') });
    expect((error as AppException).status).toBe(400);
  });
});

describe('boundedPage: a page ends early at MAX_PAGE_BYTES (issue 12 §2)', () => {
  const rows = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ id: `row${String(i).padStart(3, '0')}`, text: 'x'.repeat(bytes) }));
  const page = (all: { id: string; text: string }[], limit: number) => boundedPage(all, limit, (row) => row, (row) => row.id);

  it('gives `limit` items and the last one’s cursor when they fit and more rows follow', () => {
    expect(page(rows(4, 10), 3)).toEqual({ data: rows(3, 10), nextKey: 'row002' });
    expect(page(rows(3, 10), 3)).toEqual({ data: rows(3, 10), nextKey: null });
  });

  it('ends before the item that would pass the bound, with that page’s last cursor, even on the last rows', () => {
    const quarter = Math.floor(MAX_PAGE_BYTES / 4);
    const result = page(rows(5, quarter), 100);
    expect(result.data.map((row) => row.id)).toEqual(['row000', 'row001', 'row002']);
    expect(result.nextKey).toBe('row002');
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(MAX_PAGE_BYTES);
  });

  it('always gives the first item, however large', () => {
    const result = page(rows(2, 2 * MAX_PAGE_BYTES), 100);
    expect(result.data.map((row) => row.id)).toEqual(['row000']);
    expect(result.nextKey).toBe('row000');
  });
});
