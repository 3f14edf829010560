import { Module } from '@nestjs/common';
import { RecordsModule } from '../records/records.module';
import { HistoryController } from './history.controller';
import { HistoryRepository } from './history.repository';
import { HistoryService } from './history.service';

/**
 * Record history (SPEC §13) over the change stream: owns `change_events` and the triggers that
 * write it with every change of a record or a relationship (migration CreateChangeEvents).
 */
@Module({
  imports: [RecordsModule],
  controllers: [HistoryController],
  providers: [HistoryService, HistoryRepository],
  exports: [HistoryService],
})
export class HistoryModule {}
