import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { createApp } from '../../src/create-app';
import { createTestDatabase, sessionTimeoutsEnv } from './test-database';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** The reliability run's webhook settings (test/reliability/run.js), which its in-process apps take too. */
function webhookEnv(): Record<string, string> {
  const names = ['WEBHOOK_ALLOWED_HOSTS', 'WEBHOOK_RETRY_WINDOW_SECONDS'];
  return Object.fromEntries(names.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]));
}

export interface TestApp {
  app: NestExpressApplication;
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * The production app (same createApp) over a database of the suite's own. Pass `databaseUrl`
 * to put a second instance on the same database.
 */
export async function createTestApp(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const databaseUrl = overrides.databaseUrl ?? (await createTestDatabase());
  const config = { ...loadConfig({ ...sessionTimeoutsEnv(), ...webhookEnv(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' }), masterKey: TEST_MASTER_KEY, ...overrides, databaseUrl };
  const app = await createApp(config);
  return { app, databaseUrl, close: () => app.close() };
}

