import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { createApp } from '../../src/create-app';
import { createTestDatabase, sessionTimeoutsEnv } from './test-database';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

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
  const config = { ...loadConfig({ ...sessionTimeoutsEnv(), LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' }), masterKey: TEST_MASTER_KEY, ...overrides, databaseUrl };
  const app = await createApp(config);
  return { app, databaseUrl, close: () => app.close() };
}

