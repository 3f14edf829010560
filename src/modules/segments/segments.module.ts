import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { PropertiesModule } from '../properties/properties.module';
import { RecordsModule } from '../records/records.module';
import { RelationshipTypesModule } from '../relationship-types/relationship-types.module';
import { SearchModule } from '../search/search.module';
import { SegmentEntity } from './segment.entity';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

/** Segments (SPEC §9): saved condition groups, their members found through the records module when read. */
@Module({
  imports: [TypeOrmModule.forFeature([SegmentEntity]), EntitiesModule, PropertiesModule, RecordsModule, RelationshipTypesModule, SearchModule],
  controllers: [SegmentsController],
  providers: [SegmentsService, provideScopedRepository(SegmentEntity)],
  exports: [SegmentsService],
})
export class SegmentsModule {}
