import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { PropertiesController } from './properties.controller';
import { PropertiesService } from './properties.service';
import { PropertyEntity } from './property.entity';

@Module({
  imports: [TypeOrmModule.forFeature([PropertyEntity]), EntitiesModule],
  controllers: [PropertiesController],
  providers: [PropertiesService, provideScopedRepository(PropertyEntity)],
  exports: [PropertiesService],
})
export class PropertiesModule {}
