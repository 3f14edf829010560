import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import type { RecordData } from '../record-data';
import type { RecordEntity } from '../record.entity';

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class CreateRecordDto {
  @IsCrmId('entity')
  entityId: string;

  @IsString() @Length(1, 255)
  name: string;

  /** Values keyed by property ID, each checked against its property's field type. */
  @IsOptional() @IsObject()
  data?: RecordData;

  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 50, { each: true })
  tags?: string[];
}

export class UpdateRecordDto {
  @IsOptionalNotNull() @IsString() @Length(1, 255)
  name?: string;

  /** Merged into the stored data: the keys given replace their values, a null value removes its key. */
  @IsOptionalNotNull() @IsObject()
  data?: RecordData;

  /** Replaces the tags whole. */
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 50, { each: true })
  tags?: string[];
}

export const SORT_FIELDS = ['dateCreated', 'dateUpdated', 'name'] as const;

export class ListRecordsQueryDto extends PageQueryDto {
  @IsCrmId('entity')
  entityId: string;

  /** Matches the name, case-insensitively. */
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;

  @IsOptional() @IsIn(SORT_FIELDS)
  sortField: (typeof SORT_FIELDS)[number] = 'dateCreated';

  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value)) @IsIn(['ASC', 'DESC'])
  sortDirection: 'ASC' | 'DESC' = 'DESC';

  /** true lists the trash instead. */
  @IsOptional() @Transform(toBoolean) @IsBoolean()
  isDeleted: boolean = false;
}

export class DeleteRecordQueryDto {
  /** true removes the record for good, with its relationships. */
  @IsOptional() @Transform(toBoolean) @IsBoolean()
  permanent: boolean = false;
}

export class BulkRestoreRecordsDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsCrmId('record', { each: true })
  recordIds: string[];
}

export class BulkDeleteRecordsDto extends BulkRestoreRecordsDto {
  @IsOptional() @IsBoolean()
  permanent?: boolean;
}

export class BulkRecordsResponse {
  /** How many records changed. */
  count: number;
  /** The records that changed; IDs not in the account, or already in the asked state, are left out. */
  recordIds: string[];
}

export class RecordResponse {
  recordId: string;
  accountId: string;
  entityId: string;
  name: string;
  data: RecordData;
  tags: string[];
  isDeleted: boolean;
  deletedAt: string | null;
  dateCreated: string;
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
