import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyService } from './idempotency.service';

/** Idempotency keys (SPEC §13): owns `idempotency_keys`; its interceptor is global (AppModule). */
@Module({
  imports: [JobsModule],
  providers: [IdempotencyKeysRepository, IdempotencyService, IdempotencyInterceptor],
  exports: [IdempotencyInterceptor],
})
export class IdempotencyModule {}
