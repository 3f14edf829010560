/**
 * The API reference is complete, and the same under jest as in production: the document of the
 * built server (`nest build`) equals the one the in-process test app serves (@swc/jest), which the
 * other reliability suites read to enumerate routes; every operation has a summary, a description
 * and its success schema.
 *
 * The API reference page works as users meet it: /docs of the built server, in headless Chromium
 * (Debian's `chromium`, driven by playwright-core). A user enters a key and its secret once in the
 * Authorize dialog, then "Try it out" → Execute on GET /plans/me answers 200: the page signed the
 * request in the browser (Swagger UI's requestInterceptor with Web Crypto), and never sent the
 * secret. A screenshot of the page goes to /tmp for people to look at.
 */
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { createTestApp } from '../utils/create-app';
import { createTestDatabase } from '../utils/test-database';
import { createAccountWithKey, killLeftovers, startInstances, type AccountWithKey, type Instance } from './utils/instances';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/crm-core-docs-try-it-out.png';

/**
 * Operations still being documented elsewhere, by operation ID (`RelationshipsController_create`):
 * the completeness check skips them. Empty: every operation has its `@ApiDoc`.
 */
const AWAITING_DOCS = new Set<string>([]);

type Operation = { operationId: string; summary?: string; description?: string; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type OpenApiDocument = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

async function documentOf(base: string): Promise<OpenApiDocument> {
  const res = await fetch(`${base}/docs/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /docs/openapi.json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/** Fills one scheme of the Authorize dialog and confirms it (Swagger UI shows one form per scheme). */
async function authorizeScheme(page: Page, scheme: string, value: string): Promise<void> {
  const form = page.locator('.auth-container', { has: page.locator('h4', { hasText: new RegExp(`^${scheme}\\b`) }) });
  await form.locator('input').fill(value);
  await form.locator('button.authorize').click();
}

describe('/docs in a browser: enter a key once, then "Try it out" signs every call', () => {
  let server: Instance;
  let account: AccountWithKey;
  let browser: Browser;
  let page: Page;
  /** Every header value the page sent to the API. */
  const sentHeaders: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
    const databaseUrl = await createTestDatabase();
    [server] = await startInstances(1, { databaseUrl, label: 'docs' });
    account = await createAccountWithKey(databaseUrl, 'FREE', 'Docs');
    // Root in CI: Chromium's sandbox needs user namespaces that containers often lack.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    page.on('request', (request) => {
      if (request.url().includes('/crm-core/v1/')) sentHeaders.push(...Object.values(request.headers()));
    });
  });
  afterAll(async () => {
    await browser?.close();
    await killLeftovers();
  });

  it('serves the same document from the built server as from the app the tests build (no build-time plugin adds to it)', async () => {
    const testApp = await createTestApp();
    try {
      const inJest = (await request(testApp.app.getHttpServer()).get('/docs/openapi.json').expect(200)).body;
      expect(await documentOf(server.base)).toEqual(inJest);
    } finally {
      await testApp.close();
    }
  });

  it('documents every operation: a summary, a description, and the schema of its success answer', async () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries((await documentOf(server.base)).paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (AWAITING_DOCS.has(operation.operationId)) continue;
        const name = `${method.toUpperCase()} ${path}`;
        if (!operation.summary) problems.push(`${name}: no summary`);
        if (!operation.description) problems.push(`${name}: no description`);
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        // JSON for most; a file download documents its file's media types instead.
        if (!success.some(([, response]) => Object.values(response.content ?? {}).some((media) => media?.schema))) problems.push(`${name}: no success schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents every body and answer field: no schema is an empty object, as a DTO without @ApiProperty comes out', async () => {
    const { schemas } = (await documentOf(server.base)).components;
    expect(Object.keys(schemas).filter((name) => Object.keys(schemas[name].properties ?? {}).length === 0)).toEqual([]);
  });

  it('GET /plans/me from the page answers 200 with the plan, signed in the browser without sending the secret', async () => {
    await page.goto(`${server.base}/docs`);
    await page.locator('button.authorize').first().click();
    await authorizeScheme(page, 'apiKey', account.apiKey);
    await authorizeScheme(page, 'apiSecret', account.apiSecret);
    await page.locator('.dialog-ux button.close-modal').click();

    const operation = page.locator('#operations-plans-PlansController_me');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.waitFor({ timeout: 15_000 });
    const body = await operation.locator('.live-responses-table .response-col_description pre').first().innerText();
    await operation.scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT, fullPage: false });

    expect({ status: (await status.innerText()).trim(), body: body.slice(0, 200) }).toEqual({ status: '200', body: expect.stringContaining('"tier": "FREE"') });
    const authorization = sentHeaders.find((value) => value.startsWith('HMAC-SHA256 '));
    expect(authorization).toMatch(new RegExp(`^HMAC-SHA256 apiKey=${account.apiKey}, date=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, salt=[0-9a-f]{32}, signature=[0-9a-f]{64}$`));
    expect(sentHeaders.filter((value) => value.includes(account.apiSecret))).toEqual([]);
  });
});
