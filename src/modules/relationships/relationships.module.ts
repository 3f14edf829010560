import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { RecordsModule } from '../records/records.module';
import { RelationshipTypesModule } from '../relationship-types/relationship-types.module';
import { RelationshipEntity } from './relationship.entity';
import { RelationshipsController } from './relationships.controller';
import { RelationshipsService } from './relationships.service';

@Module({
  imports: [TypeOrmModule.forFeature([RelationshipEntity]), RelationshipTypesModule, RecordsModule],
  controllers: [RelationshipsController],
  providers: [RelationshipsService, provideScopedRepository(RelationshipEntity)],
  exports: [RelationshipsService],
})
export class RelationshipsModule {}
