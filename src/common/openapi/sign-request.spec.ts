import { createHmac } from 'node:crypto';
import { parseAuthorization } from '../auth/authorization-header';
import { signSwaggerUiRequest, SIGNING_SCHEMES, type SwaggerUiRequest } from './sign-request';

const API_KEY = 'NCSK7Q2M9X4B1Z8P';
const API_SECRET = 'Q3ZP0W8M1R5T7Y2U4I6O9A8S7D6F5G4H';

/** Swagger UI's state as the page holds it after the Authorize dialog. */
function withAuthorized(values: Record<string, string>, run: () => Promise<void>): Promise<void> {
  const page = globalThis as { ui?: unknown };
  const entries = Object.fromEntries(Object.entries(values).map(([scheme, value]) => [scheme, { value }]));
  page.ui = { authSelectors: { authorized: () => ({ toJS: () => entries }) } };
  return run().finally(() => delete page.ui);
}

const request = (url: string): SwaggerUiRequest => ({ url, headers: { accept: 'application/json' } });

describe('signSwaggerUiRequest (the /docs page’s requestInterceptor)', () => {
  it('signs an API call as the guard expects: a header it parses, hex(HMAC-SHA256(secret, date + salt))', async () => {
    await withAuthorized({ [SIGNING_SCHEMES.apiKey]: API_KEY, [SIGNING_SCHEMES.apiSecret]: API_SECRET }, async () => {
      const signed = await signSwaggerUiRequest(request('http://localhost:3000/crm-core/v1/plans/me'));
      const parsed = parseAuthorization(signed.headers['Authorization']);
      if (!parsed.ok) throw new Error(`the guard refuses the header: ${parsed.reason}`);
      const { apiKey, date, salt, signature } = parsed.credentials;
      expect(apiKey).toBe(API_KEY);
      expect(salt).toMatch(/^[0-9a-f]{32}$/);
      expect(Math.abs(Date.now() - Date.parse(date))).toBeLessThan(5_000);
      expect(signature).toBe(createHmac('sha256', API_SECRET).update(date + salt).digest('hex'));
      expect(JSON.stringify(signed)).not.toContain(API_SECRET);
    });
  });

  it('a fresh salt each time, so that no two calls look like a replay', async () => {
    await withAuthorized({ apiKey: API_KEY, apiSecret: API_SECRET }, async () => {
      const salts = new Set<string>();
      for (let i = 0; i < 5; i++) salts.add(/salt=(\w+)/.exec((await signSwaggerUiRequest(request('/crm-core/v1/entities'))).headers['Authorization'])![1]);
      expect(salts.size).toBe(5);
    });
  });

  it('leaves other requests, and calls made before a key and secret are entered, unsigned', async () => {
    await withAuthorized({ apiKey: API_KEY, apiSecret: API_SECRET }, async () => {
      expect((await signSwaggerUiRequest(request('http://localhost:3000/docs/openapi.json'))).headers).toEqual({ accept: 'application/json' });
    });
    await withAuthorized({ apiKey: API_KEY }, async () => {
      expect((await signSwaggerUiRequest(request('http://localhost:3000/crm-core/v1/plans/me'))).headers).toEqual({ accept: 'application/json' });
    });
  });
});
