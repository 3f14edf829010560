import { Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { runMigrations } from './migrate';

/**
 * Applies pending migrations while the app initialises: in onModuleInit, so that they are done
 * before any module's onApplicationBootstrap (the job queue starts there, on the schema they make).
 */
@Injectable()
class MigrationsOnBoot implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const applied = await runMigrations(this.dataSource);
    if (applied.length > 0) this.logger.log({ applied }, `applied ${applied.length} migration(s)`);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({
          url: config.databaseUrl!,
          poolSize: config.dbPoolSize,
          connectTimeoutMs: config.dbConnectTimeoutMs,
          statementTimeoutMs: config.dbStatementTimeoutMs,
          idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
        }),
        autoLoadEntities: true,
        // Migrations need the database at boot: fail fast and let the supervisor restart us.
        retryAttempts: 0,
      }),
    }),
  ],
  providers: [MigrationsOnBoot],
})
export class DatabaseModule {}
