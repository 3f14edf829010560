import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import type { HttpLogger } from 'pino-http';
import { AuthModule } from './common/auth/auth.module';
import { HmacAuthGuard } from './common/auth/hmac-auth.guard';
import { RolesGuard } from './common/auth/roles.guard';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { JsonBodyGuard } from './common/http/json-body';
import { createRequestLogger } from './common/http/request-logging';
import { createValidationPipe } from './common/http/validation.pipe';
import { ChangeActorInterceptor } from './common/persistence/change-actor';
import { ActorTransactionalAdapter } from './common/persistence/transactional-adapter';
import { QuotaInterceptor } from './common/quota/quota.interceptor';
import { QuotaModule } from './common/quota/quota.module';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { AccountsModule } from './modules/accounts/accounts.module';
import { ActivitiesModule } from './modules/activities/activities.module';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { EntitiesModule } from './modules/entities/entities.module';
import { EventsModule } from './modules/events/events.module';
import { ExportsModule } from './modules/exports/exports.module';
import { HealthModule } from './modules/health/health.module';
import { HistoryModule } from './modules/history/history.module';
import { IdempotencyInterceptor } from './modules/idempotency/idempotency.interceptor';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { IdempotencyModule } from './modules/idempotency/idempotency.module';
import { ImportsModule } from './modules/imports/imports.module';
import { JobsModule } from './modules/jobs/jobs.module';
import { PlansModule } from './modules/plans/plans.module';
import { PropertiesModule } from './modules/properties/properties.module';
import { RecordsModule } from './modules/records/records.module';
import { RelationshipTypesModule } from './modules/relationship-types/relationship-types.module';
import { RelationshipsModule } from './modules/relationships/relationships.module';
import { SegmentsModule } from './modules/segments/segments.module';

/**
 * The product's feature modules. A new entity module is one more line here. Order matters where
 * paths overlap: /relationships/types before /relationships/:relationshipId.
 */
const FEATURE_MODULES = [
  HealthModule,
  AccountsModule,
  ApiKeysModule,
  PlansModule,
  EntitiesModule,
  PropertiesModule,
  RecordsModule,
  RelationshipTypesModule,
  RelationshipsModule,
  SegmentsModule,
  ActivitiesModule,
  EventsModule,
  JobsModule,
  ExportsModule,
  ImportsModule,
  HistoryModule,
  IdempotencyModule,
  WebhooksModule,
];

@Global()
@Module({})
class ConfigModule {
  static register(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

@Module({})
export class AppModule {
  /**
   * `config.databaseUrl` must be resolved (see resolveDatabase) before the module is built.
   * `requestLogger` is the pino-http instance configureApp mounts; apps without HTTP (the CLIs)
   * leave it out.
   */
  static register(config: AppConfig, requestLogger: HttpLogger = createRequestLogger(config.logLevel)): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        // Logs outside a request go through a child of the request logger (same level and stream);
        // inside one, nestjs-pino binds the request's own logger (`useExisting`: req.log, set by
        // the request logger configureApp mounts), so every line carries the request.
        LoggerModule.forRoot({ pinoHttp: { logger: requestLogger.logger }, useExisting: true }),
        DatabaseModule,
        // No CLS middleware: a context is only needed inside a transaction, and
        // TransactionHost.withTransaction opens one itself; outside one, txHost.tx is the plain
        // connection pool. Mounted, it ran for every request, health checks and 404s included.
        ClsModule.forRoot({
          global: true,
          plugins: [
            new ClsPluginTransactional({
              imports: [TypeOrmModule],
              adapter: new ActorTransactionalAdapter({ dataSourceToken: getDataSourceToken() }),
            }),
          ],
        }),
        AuthModule,
        QuotaModule,
        ...FEATURE_MODULES,
      ],
      providers: [
        // Order matters: authentication resolves the caller, then the caller's role is checked,
        // then the body is read: nobody's body (an upload of 10 MB) is read before they are known
        // to be allowed the route.
        { provide: APP_GUARD, useExisting: HmacAuthGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useClass: JsonBodyGuard },
        // Outermost first: the caller is known to the transactions the idempotency key opens, and
        // a replayed answer is given before any quota is metered.
        { provide: APP_INTERCEPTOR, useClass: ChangeActorInterceptor },
        { provide: APP_INTERCEPTOR, useExisting: IdempotencyInterceptor },
        { provide: APP_INTERCEPTOR, useExisting: QuotaInterceptor },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
