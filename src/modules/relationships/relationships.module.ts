import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { RecordsModule } from '../records/records.module';
import { RelationshipTypesModule } from '../relationship-types/relationship-types.module';
import { RelationshipEntity } from './relationship.entity';
import { RelationshipsController } from './relationships.controller';
import { RelationshipsRepository } from './relationships.repository';
import { RelationshipsService } from './relationships.service';

@Module({
  imports: [TypeOrmModule.forFeature([RelationshipEntity]), EntitiesModule, RelationshipTypesModule, RecordsModule],
  controllers: [RelationshipsController],
  providers: [RelationshipsService, RelationshipsRepository, provideScopedRepository(RelationshipEntity)],
  exports: [RelationshipsService],
})
export class RelationshipsModule {}
