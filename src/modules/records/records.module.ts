import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { PropertiesModule } from '../properties/properties.module';
import { SearchModule } from '../search/search.module';
import { RecordEntity } from './record.entity';
import { RecordsController } from './records.controller';
import { RecordsRepository } from './records.repository';
import { RecordsService } from './records.service';

@Module({
  imports: [TypeOrmModule.forFeature([RecordEntity]), EntitiesModule, PropertiesModule, SearchModule],
  controllers: [RecordsController],
  providers: [RecordsService, RecordsRepository, provideScopedRepository(RecordEntity)],
  exports: [RecordsService],
})
export class RecordsModule {}
