import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import type { RecordData } from '../record-data';
import type { RecordEntity } from '../record.entity';

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class CreateRecordDto {
  @ApiIdProperty('entity', 'The entity this record is of.')
  @IsCrmId('entity')
  entityId: string;

  @ApiProperty({ minLength: 1, maxLength: 255, example: '홍길동' })
  @IsString() @Length(1, 255)
  name: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Values keyed by the entity’s property IDs, each checked against its property’s field type; `null` means absent.',
    example: { CRMPP126042309153012300K7Q2M9X4B: 'gold', CRMPP126042309153012301K7Q2M9X4B: 42 },
  })
  @IsOptional() @IsObject()
  data?: RecordData;

  @ApiPropertyOptional({ type: [String], maxItems: 50, description: 'Each 1–50 characters.', example: ['vip'] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 50, { each: true })
  tags?: string[];
}

export class UpdateRecordDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 255, example: '홍길동' })
  @IsOptionalNotNull() @IsString() @Length(1, 255)
  name?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Merged into the stored data: the keys given replace their values, a `null` value removes its key.',
    example: { CRMPP126042309153012300K7Q2M9X4B: 'silver' },
  })
  @IsOptionalNotNull() @IsObject()
  data?: RecordData;

  @ApiPropertyOptional({ type: [String], maxItems: 50, description: 'Replaces the tags whole.', example: ['vip', 'renewal'] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 50, { each: true })
  tags?: string[];
}

export const SORT_FIELDS = ['dateCreated', 'dateUpdated', 'name'] as const;

export class ListRecordsQueryDto extends PageQueryDto {
  @ApiIdProperty('entity', 'The entity whose records to list.')
  @IsCrmId('entity')
  entityId: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Matches the name, case-insensitively.', example: '길동' })
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;

  @ApiPropertyOptional({ enum: SORT_FIELDS, default: 'dateCreated' })
  @IsOptional() @IsIn(SORT_FIELDS)
  sortField: (typeof SORT_FIELDS)[number] = 'dateCreated';

  @ApiPropertyOptional({ enum: ['ASC', 'DESC'], default: 'DESC', description: 'Any case.' })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value)) @IsIn(['ASC', 'DESC'])
  sortDirection: 'ASC' | 'DESC' = 'DESC';

  @ApiPropertyOptional({ default: false, description: '`true` lists the trash instead.' })
  @IsOptional() @Transform(toBoolean) @IsBoolean()
  isDeleted: boolean = false;

  @ApiPropertyOptional({
    maxLength: 20000,
    description:
      'The short form of the condition language, as a JSON object: `{ "<field>": { "op": "<operator>", "value": … } }`, a bare value meaning `eq`, all ANDed (docs/search.md).',
    example: '{"name":{"op":"startsWith","value":"홍"}}',
  })
  @IsOptional() @IsString() @MaxLength(20000)
  filters?: string;

  @ApiIdProperty('segment', 'Only the members of this segment of the entity (SPEC §9), with the other conditions.', { required: false })
  @IsOptional() @IsCrmId('segment')
  segmentId?: string;
}

export class DeleteRecordQueryDto {
  @ApiPropertyOptional({ default: false, description: '`true` removes the record for good, with its relationships.' })
  @IsOptional() @Transform(toBoolean) @IsBoolean()
  permanent: boolean = false;
}

export class BulkRestoreRecordsDto {
  @ApiIdProperty('record', '1–1,000 records; IDs not in the account are left out.', { isArray: true, minItems: 1, maxItems: 1000 })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsCrmId('record', { each: true })
  recordIds: string[];
}

export class BulkDeleteRecordsDto extends BulkRestoreRecordsDto {
  @ApiPropertyOptional({ default: false, description: '`true` removes the records for good, with their relationships.' })
  @IsOptional() @IsBoolean()
  permanent?: boolean;
}

export class BulkRecordsResponse {
  @ApiProperty({ description: 'How many records changed.', example: 2 })
  count: number;
  @ApiIdProperty('record', 'The records that changed; IDs not in the account, or already in the asked state, are left out.', { isArray: true })
  recordIds: string[];
}

export class RecordResponse {
  @ApiIdProperty('record', 'The record.')
  recordId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('entity', 'The entity it is of.')
  entityId: string;
  @ApiProperty({ example: '홍길동' })
  name: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Values keyed by property ID.', example: { CRMPP126042309153012300K7Q2M9X4B: 'gold', CRMPP126042309153012301K7Q2M9X4B: 42 } })
  data: RecordData;
  @ApiProperty({ type: [String], example: ['vip'] })
  tags: string[];
  @ApiProperty({ description: 'In the trash.', example: false })
  isDeleted: boolean;
  @ApiProperty({ type: 'string', nullable: true, description: 'When it went to the trash.', example: null })
  deletedAt: string | null;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(r: RecordEntity): RecordResponse {
    return {
      recordId: r.recordId,
      accountId: r.accountId,
      entityId: r.entityId,
      name: r.name,
      data: r.data,
      tags: r.tags,
      isDeleted: r.isDeleted,
      deletedAt: r.deletedAt?.toISOString() ?? null,
      dateCreated: r.dateCreated.toISOString(),
      dateUpdated: r.dateUpdated.toISOString(),
    };
  }
}
