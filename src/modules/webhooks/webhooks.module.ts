import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { JobsModule } from '../jobs/jobs.module';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEntity } from './webhook.entity';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhooks (SPEC §14): owns `webhooks`, `webhook_deliveries` (the outbox its triggers fill) and `webhook_delivery_attempts`; sends on the job queue. */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEntity, WebhookDeliveryEntity]), EntitiesModule, JobsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookDispatcher, WebhookDeliveriesRepository, provideScopedRepository(WebhookEntity), provideScopedRepository(WebhookDeliveryEntity)],
  exports: [WebhooksService],
})
export class WebhooksModule {}
