import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import type { ImportRowError } from '../../records/records.service';
import { IMPORT_MODES, type ImportJobEntity, type ImportMode, type ImportStatus } from '../import-job.entity';

/** The form fields of `POST /records/import` besides `file` (all text, as multipart sends them). */
export class RequestImportDto {
  @ApiIdProperty('entity', 'The entity the rows become records of.')
  @IsCrmId('entity')
  entityId: string;

  @ApiProperty({
    description: 'JSON: each column header of the file → `name`, `tags` or a property ID of the entity. Columns not named are ignored.',
    example: '{"이름":"name","태그":"tags","등급":"CRMPP1260423091530123GRD11122233"}',
  })
  @IsString() @Length(2, 100_000)
  columnMappings: string;

  @ApiPropertyOptional({ enum: IMPORT_MODES, default: 'CREATE', description: '`UPSERT`: a row whose `matchBy` value a record of the entity holds updates it.' })
  @IsOptional() @IsIn(IMPORT_MODES)
  mode?: ImportMode;

  @ApiIdProperty('property', 'UPSERT only: the property whose value finds the record (one of the mapped ones).', { required: false })
  @IsOptional() @IsCrmId('property')
  matchBy?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: '`true`: read and check everything, report the same counts and errors, write nothing.' })
  @IsOptional() @IsIn(['true', 'false'])
  dryRun?: 'true' | 'false';
}

export class ImportRequestResponse {
  @ApiIdProperty('job', 'The import; follow it with `GET /records/import/{jobId}`.')
  jobId: string;
}

export class ImportRowErrorResponse {
  @ApiProperty({ description: 'The data row, from 1 (the header not counted).', example: 7 })
  row: number;
  @ApiPropertyOptional({ description: 'The column header, when one cell is at fault.', example: '등급' })
  column?: string;
  @ApiProperty({ enum: ['ValidationError', 'QuotaExceeded'] })
  errorCode: string;
  @ApiProperty({ example: 'data.CRMPP… (등급): 옵션에 없는 값입니다.' })
  errorMessage: string;
}

export class ImportStatusResponse {
  @ApiIdProperty('job', 'The import.')
  jobId: string;
  @ApiProperty({ enum: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] })
  status: ImportStatus;
  @ApiProperty({ description: 'Data rows in the file.', example: 1000 })
  total: number;
  @ApiProperty({ description: 'Rows done so far.', example: 500 })
  processed: number;
  @ApiProperty({ example: 480 })
  created: number;
  @ApiProperty({ example: 12 })
  updated: number;
  @ApiProperty({ example: 8 })
  failed: number;
  @ApiProperty({ type: [ImportRowErrorResponse], description: 'The first 1,000 row errors.' })
  errors: ImportRowError[];
  @ApiPropertyOptional({ description: 'FAILED only: why the file as a whole could not be imported.' })
  errorMessage?: string;

  static from(job: ImportJobEntity): ImportStatusResponse {
    return {
      jobId: job.jobId,
      status: job.status,
      total: job.total,
      processed: job.processed,
      created: job.created,
      updated: job.updated,
      failed: job.failed,
      errors: job.errors,
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }
}
