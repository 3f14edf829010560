import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import type { DestinationStream } from 'pino';
import type { AppConfig } from './config/app-config';
import { configureApp } from './configure-app';
import { answerClientErrorsWithEnvelope } from './common/http/client-error.handler';
import { notFoundHandler } from './common/http/not-found.handler';
import { applyServerLimits } from './common/http/server-limits';
import { createRequestLogger } from './common/http/request-logging';

export interface CreateAppOptions {
  /** Where the logs go instead of stdout (tests that read them). */
  logDestination?: DestinationStream;
}

/** Builds and initialises the application exactly as production runs it; the caller decides when it listens. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  if (!config.databaseUrl) throw new Error('createApp needs a resolved databaseUrl');
  const requestLogger = createRequestLogger(config.logLevel, options.logDestination);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, requestLogger), {
    bodyParser: false, // jsonBodyMiddleware parses bodies, so that its errors get the API's error body
    bufferLogs: true,
  });
  configureApp(app, requestLogger);
  await app.init();
  // After init, so it stands behind every route: paths outside the API prefix get the envelope too.
  app.use(notFoundHandler);
  answerClientErrorsWithEnvelope(app.getHttpServer());
  applyServerLimits(app.getHttpServer(), config);
  return app;
}
