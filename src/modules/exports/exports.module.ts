import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesModule } from '../entities/entities.module';
import { JobsModule } from '../jobs/jobs.module';
import { PropertiesModule } from '../properties/properties.module';
import { RecordsModule } from '../records/records.module';
import { ExportFilesRepository } from './export-files.repository';
import { ExportJobEntity } from './export-job.entity';
import { ExportsController } from './exports.controller';
import { ExportsService } from './exports.service';

/** Exports of records (SPEC §12): CSV and .xlsx, in the request up to 10,000 records, as a job beyond. */
@Module({
  imports: [TypeOrmModule.forFeature([ExportJobEntity]), EntitiesModule, JobsModule, PropertiesModule, RecordsModule],
  controllers: [ExportsController],
  providers: [ExportsService, ExportFilesRepository, provideScopedRepository(ExportJobEntity)],
  exports: [ExportsService],
})
export class ExportsModule {}
