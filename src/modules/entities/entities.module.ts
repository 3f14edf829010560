import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesController } from './entities.controller';
import { EntitiesService } from './entities.service';
import { EntityEntity } from './entity.entity';

@Module({
  imports: [TypeOrmModule.forFeature([EntityEntity])],
  controllers: [EntitiesController],
  providers: [EntitiesService, provideScopedRepository(EntityEntity)],
  exports: [EntitiesService],
})
export class EntitiesModule {}
