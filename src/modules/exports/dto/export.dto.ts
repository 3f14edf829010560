import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { EXPORT_FORMATS, type ExportFormat, type ExportJobEntity, type ExportStatus } from '../export-job.entity';

export class RequestExportDto {
  @ApiIdProperty('entity', 'The entity whose records to export.')
  @IsCrmId('entity')
  entityId: string;

  @ApiProperty({ enum: EXPORT_FORMATS, description: '`csv` (UTF-8 with a byte-order mark) or `excel` (one .xlsx sheet).', example: 'csv' })
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Part of the name, any case.', example: '김' })
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'The short form of docs/search.md, ANDed.', example: { tags: { op: 'containsAny', value: ['vip'] } } })
  @IsOptional() @IsObject()
  filters?: object;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A condition group of docs/search.md.', example: { operator: 'AND', conditions: [{ field: 'name', operator: 'startsWith', value: '김' }] } })
  @IsOptional() @IsObject()
  conditionGroup?: object;

  @ApiIdProperty('segment', 'A segment of the entity.', { required: false })
  @IsOptional() @IsCrmId('segment')
  segmentId?: string;

  @ApiIdProperty('property', 'The property columns, in this order (the entity’s properties when absent).', { isArray: true, minItems: 1, maxItems: 500, required: false })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @IsCrmId('property', { each: true })
  propertyIds?: string[];
}

export class ExportRequestResponse {
  @ApiProperty({ enum: ['sync', 'async'], description: '`sync` (200): the file is ready. `async` (202): follow `GET /records/export/{jobId}/status`.' })
  mode: 'sync' | 'async';
  @ApiIdProperty('job', 'The export.')
  jobId: string;
  @ApiPropertyOptional({ description: 'sync only: where the file downloads without a signature, until `expiresAt` (then 410).', example: '/crm-core/v1/records/export/CRMJB1260423091530123JOB11122233/download?token=…' })
  downloadUrl?: string;
  @ApiPropertyOptional({ example: '2026-12-02T10:15:30.123Z' })
  expiresAt?: string;
}

export class ExportStatusResponse {
  @ApiIdProperty('job', 'The export.')
  jobId: string;
  @ApiProperty({ enum: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'EXPIRED'] })
  status: ExportStatus;
  @ApiProperty({ description: 'Records written so far.', example: 42000 })
  processed: number;
  @ApiProperty({ description: 'Records the export holds (0 until it has counted them).', example: 120000 })
  total: number;
  @ApiPropertyOptional({ description: 'COMPLETED only.', example: '/crm-core/v1/records/export/CRMJB1260423091530123JOB11122233/download?token=…' })
  downloadUrl?: string;
  @ApiPropertyOptional({ example: '2026-12-02T10:15:30.123Z' })
  expiresAt?: string;
  @ApiPropertyOptional({ description: 'FAILED only.' })
  errorMessage?: string;

  static from(job: ExportJobEntity, downloadUrl: string | undefined): ExportStatusResponse {
    return {
      jobId: job.jobId,
      status: job.status,
      processed: job.processed,
      total: job.total,
      ...(downloadUrl && job.expiresAt ? { downloadUrl, expiresAt: job.expiresAt.toISOString() } : {}),
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }
}
