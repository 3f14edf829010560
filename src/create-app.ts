import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { configureApp } from './configure-app';
import { answerClientErrorsWithEnvelope } from './common/http/client-error.handler';
import { notFoundHandler } from './common/http/not-found.handler';

/** Builds and initialises the application exactly as production runs it; the caller decides when it listens. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  if (!config.databaseUrl) throw new Error('createApp needs a resolved databaseUrl');
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false, // jsonBodyMiddleware parses bodies, so that its errors get the API's error body
    bufferLogs: true,
  });
  configureApp(app);
  await app.init();
  // After init, so it stands behind every route: paths outside the API prefix get the envelope too.
  app.use(notFoundHandler);
  answerClientErrorsWithEnvelope(app.getHttpServer());
  return app;
}
