import { Module } from '@nestjs/common';
import { JobsService } from './jobs.service';

/** The job queue every module's background work runs on (issue 16): see JobsService. */
@Module({
  providers: [JobsService],
  exports: [JobsService],
})
export class JobsModule {}
