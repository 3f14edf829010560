import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { RecordsModule } from '../records/records.module';
import { EventEntity, EventSummaryEntity } from './event.entity';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/** Events (SPEC §11): what records did, with their running totals. */
@Module({
  imports: [TypeOrmModule.forFeature([EventEntity, EventSummaryEntity]), EntitiesModule, RecordsModule],
  controllers: [EventsController],
  providers: [EventsService, EventsRepository, provideScopedRepository(EventEntity), provideScopedRepository(EventSummaryEntity)],
  exports: [EventsService],
})
export class EventsModule {}
