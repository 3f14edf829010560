import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { isId } from '../../../common/ids/ids';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { isDateTime } from '../../records/record-data';
import { ACTIVITY_TYPES, OUTCOMES, VISIBILITIES, type ActivityEntity, type ActivityType, type Outcome, type Visibility } from '../activity.entity';

export const ASSIGNEES_MAX = 20;
export const RELATED_RECORDS_MAX = 50;
export const BODY_MAX = 65_536;
/** `recordId=CALENDAR` in a list: the activities without a record. */
export const CALENDAR = 'CALENDAR';

/** An ISO 8601 date-time with its zone (`2026-05-01T10:00:00+09:00`), or null where the field allows it. */
const IsDateTime = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isDateTime', validator: { validate: (value) => typeof value === 'string' && isDateTime(value), defaultMessage: () => '$property: 시간대를 포함한 ISO 8601 일시여야 합니다.' } }, options);

export class CreateActivityDto {
  @ApiIdProperty('record', 'The record it is about, in the account and out of the trash; `null` or absent for a calendar item.', { required: false, nullable: true })
  @IsOptional() @IsCrmId('record')
  recordId?: string | null;

  @ApiProperty({ enum: ACTIVITY_TYPES, example: 'CALL' })
  @IsIn(ACTIVITY_TYPES)
  activityType: ActivityType;

  @ApiProperty({ minLength: 1, maxLength: 200, example: '도입 일정 통화' })
  @IsString() @Length(1, 200)
  title: string;

  @ApiPropertyOptional({ maxLength: BODY_MAX, nullable: true, example: '다음 주 화요일에 견적서를 보내기로 함' })
  @IsOptional() @IsString() @MaxLength(BODY_MAX)
  body?: string | null;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'When it takes place; ISO 8601 with a zone.', example: '2026-12-15T10:00:00+09:00' })
  @IsOptional() @IsDateTime()
  scheduledAt?: string | null;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'When it is due; ISO 8601 with a zone.', example: '2026-12-16T18:00:00+09:00' })
  @IsOptional() @IsDateTime()
  dueDate?: string | null;

  @ApiPropertyOptional({ enum: OUTCOMES, nullable: true, example: 'PENDING' })
  @IsOptional() @IsIn(OUTCOMES)
  outcome?: Outcome | null;

  @ApiPropertyOptional({ enum: VISIBILITIES, default: 'PUBLIC', description: '`PRIVATE`: seen only by its creator, its assignees and OWNERs.' })
  @IsOptional() @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiIdProperty('member', `Members of the account (at most ${ASSIGNEES_MAX}; repeated IDs count once).`, { isArray: true, maxItems: ASSIGNEES_MAX, required: false })
  @IsOptional() @IsArray() @ArrayMaxSize(ASSIGNEES_MAX) @IsCrmId('member', { each: true })
  assignedMemberIds?: string[];

  @ApiIdProperty('record', `Other records of the account it concerns (at most ${RELATED_RECORDS_MAX}; repeated IDs count once).`, { isArray: true, maxItems: RELATED_RECORDS_MAX, required: false })
  @IsOptional() @IsArray() @ArrayMaxSize(RELATED_RECORDS_MAX) @IsCrmId('record', { each: true })
  relatedRecordIds?: string[];
}

/** Any field but `recordId` (a 400: an activity stays with its record); `null` clears a nullable one. */
export class UpdateActivityDto extends PartialType(OmitType(CreateActivityDto, ['recordId', 'activityType', 'title', 'visibility', 'assignedMemberIds', 'relatedRecordIds'] as const)) {
  @ApiPropertyOptional({ enum: ACTIVITY_TYPES, example: 'MEETING' })
  @IsOptionalNotNull() @IsIn(ACTIVITY_TYPES)
  activityType?: ActivityType;

  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: '도입 일정 미팅' })
  @IsOptionalNotNull() @IsString() @Length(1, 200)
  title?: string;

  @ApiPropertyOptional({ enum: VISIBILITIES, example: 'PRIVATE' })
  @IsOptionalNotNull() @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiIdProperty('member', 'Replaces the assignees whole.', { isArray: true, maxItems: ASSIGNEES_MAX, required: false })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(ASSIGNEES_MAX) @IsCrmId('member', { each: true })
  assignedMemberIds?: string[];

  @ApiIdProperty('record', 'Replaces the related records whole.', { isArray: true, maxItems: RELATED_RECORDS_MAX, required: false })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(RELATED_RECORDS_MAX) @IsCrmId('record', { each: true })
  relatedRecordIds?: string[];
}

export class ListActivitiesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'A record’s activities, or `CALENDAR` for those without a record.', example: 'CALENDAR' })
  @IsOptional()
  @ValidateBy({ name: 'isRecordIdOrCalendar', validator: { validate: (value) => value === CALENDAR || isId(value, 'record'), defaultMessage: () => `recordId: CRMRC로 시작하는 32자리 ID 또는 ${CALENDAR}여야 합니다.` } })
  recordId?: string;

  @ApiIdProperty('entity', 'Activities of the entity’s records.', { required: false })
  @IsOptional() @IsCrmId('entity')
  entityId?: string;

  @ApiPropertyOptional({ enum: ACTIVITY_TYPES, example: 'CALL' })
  @IsOptional() @IsIn(ACTIVITY_TYPES)
  activityType?: ActivityType;

  @ApiIdProperty('member', 'Activities assigned to this member.', { required: false })
  @IsOptional() @IsCrmId('member')
  assignedMemberId?: string;
}

export class ScheduledQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit: number = 20;
}

export class ActivityResponse {
  @ApiIdProperty('activity', 'The activity.')
  activityId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('record', 'The record it is about; `null` for a calendar item.', { nullable: true })
  recordId: string | null;
  @ApiProperty({ enum: ACTIVITY_TYPES, example: 'CALL' })
  activityType: ActivityType;
  @ApiProperty({ example: '도입 일정 통화' })
  title: string;
  @ApiProperty({ nullable: true, example: '다음 주 화요일에 견적서를 보내기로 함' })
  body: string | null;
  @ApiProperty({ nullable: true, example: '2026-12-15T01:00:00.000Z', description: 'ISO 8601 UTC, milliseconds.' })
  scheduledAt: string | null;
  @ApiProperty({ nullable: true, example: '2026-12-16T09:00:00.000Z', description: 'ISO 8601 UTC, milliseconds.' })
  dueDate: string | null;
  @ApiProperty({ enum: OUTCOMES, nullable: true, example: 'PENDING' })
  outcome: Outcome | null;
  @ApiProperty({ enum: VISIBILITIES, example: 'PUBLIC' })
  visibility: Visibility;
  @ApiIdProperty('member', 'Its assignees.', { isArray: true })
  assignedMemberIds: string[];
  @ApiIdProperty('record', 'Other records it concerns.', { isArray: true })
  relatedRecordIds: string[];
  @ApiIdProperty('member', 'The member whose key created it.')
  createdBy: string;
  @ApiProperty({ example: '2026-12-02T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-12-02T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(a: ActivityEntity): ActivityResponse {
    return {
      activityId: a.activityId,
      accountId: a.accountId,
      recordId: a.recordId,
      activityType: a.activityType,
      title: a.title,
      body: a.body,
      scheduledAt: a.scheduledAt?.toISOString() ?? null,
      dueDate: a.dueDate?.toISOString() ?? null,
      outcome: a.outcome,
      visibility: a.visibility,
      assignedMemberIds: a.assignedMemberIds,
      relatedRecordIds: a.relatedRecordIds,
      createdBy: a.createdBy,
      dateCreated: a.dateCreated.toISOString(),
      dateUpdated: a.dateUpdated.toISOString(),
    };
  }
}

export class ScheduledActivitiesResponse {
  @ApiProperty({ type: [ActivityResponse] })
  data: ActivityResponse[];
}
