import type { Response } from 'supertest';

/** Asserts SPEC §1's error envelope: exactly `{ errorCode, errorMessage }`, a request id, no internals. */
export function expectError(res: Response, status: number, errorCode: string, errorMessage?: string): void {
  expect({ status: res.status, errorCode: res.body?.errorCode }).toEqual({ status, errorCode });
  expect(Object.keys(res.body).sort()).toEqual(['errorCode', 'errorMessage']);
  expect(typeof res.body.errorMessage).toBe('string');
  if (errorMessage !== undefined) expect(res.body.errorMessage).toBe(errorMessage);
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|QueryFailedError|SELECT |INSERT |node_modules/);
}
