import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { JobsModule } from '../jobs/jobs.module';
import { PropertiesModule } from '../properties/properties.module';
import { RecordsModule } from '../records/records.module';
import { ImportJobEntity } from './import-job.entity';
import { ImportsController } from './imports.controller';
import { ImportsService } from './imports.service';

/** Imports of records from CSV and .xlsx files (SPEC §12), as jobs of the queue. */
@Module({
  imports: [TypeOrmModule.forFeature([ImportJobEntity]), EntitiesModule, JobsModule, PropertiesModule, RecordsModule],
  controllers: [ImportsController],
  providers: [ImportsService, provideScopedRepository(ImportJobEntity)],
  exports: [ImportsService],
})
export class ImportsModule {}
