import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { RelationshipTypeEntity } from './relationship-type.entity';
import { RelationshipTypesController } from './relationship-types.controller';
import { RelationshipTypesService } from './relationship-types.service';

@Module({
  imports: [TypeOrmModule.forFeature([RelationshipTypeEntity]), EntitiesModule],
  controllers: [RelationshipTypesController],
  providers: [RelationshipTypesService, provideScopedRepository(RelationshipTypeEntity)],
  exports: [RelationshipTypesService],
})
export class RelationshipTypesModule {}
