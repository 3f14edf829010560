import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { MembersModule } from '../members/members.module';
import { RecordsModule } from '../records/records.module';
import { ActivitiesController } from './activities.controller';
import { ActivitiesService } from './activities.service';
import { ActivityEntity } from './activity.entity';

/** Activities (SPEC §11): the timeline of notes, tasks, calls and meetings around records, and the calendar. */
@Module({
  imports: [TypeOrmModule.forFeature([ActivityEntity]), EntitiesModule, MembersModule, RecordsModule],
  controllers: [ActivitiesController],
  providers: [ActivitiesService, provideScopedRepository(ActivityEntity)],
  exports: [ActivitiesService],
})
export class ActivitiesModule {}
