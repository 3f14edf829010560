import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { MaxJsonSize } from '../../../common/http/max-json-size.decorator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { isDateTime } from '../../records/record-data';
import type { EventEntity, EventSummaryEntity } from '../event.entity';

export const PROPERTIES_MAX_BYTES = 16 * 1024;
export const BULK_EVENTS_MAX = 100;
/** How far ahead of the server's clock `occurredAt` may be (clocks differ a little). */
export const FUTURE_SKEW_MS = 5 * 60 * 1000;

const IsDateTime = () =>
  ValidateBy({ name: 'isDateTime', validator: { validate: (value) => typeof value === 'string' && isDateTime(value), defaultMessage: (args) => `${args?.property}: 시간대를 포함한 ISO 8601 일시여야 합니다.` } });

export class CreateEventDto {
  @ApiIdProperty('record', 'The record that did it, in the account and out of the trash.')
  @IsCrmId('record')
  recordId: string;

  @ApiProperty({ minLength: 1, maxLength: 128, example: 'purchase' })
  @IsString() @Length(1, 128)
  eventType: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 128, example: 'online' })
  @IsOptional() @IsString() @Length(1, 128)
  category?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 512, example: '겨울 코트' })
  @IsOptional() @IsString() @Length(1, 512)
  label?: string;

  @ApiPropertyOptional({ description: 'Any finite number; summaries add them up exactly.', example: 129000 })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false })
  value?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {}, description: 'Any JSON object of at most 16 KiB.', example: { orderId: 'A-1001', items: 2 } })
  @IsOptional() @IsObject() @MaxJsonSize(PROPERTIES_MAX_BYTES)
  properties?: Record<string, unknown>;

  @ApiPropertyOptional({ format: 'date-time', description: 'When it happened (ISO 8601 with a zone), at most 5 minutes ahead; now when absent.', example: '2026-12-02T09:15:30.123Z' })
  @IsOptional() @IsDateTime()
  occurredAt?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 128, description: 'Unique in the account: the same key again, for any record, answers the event first stored under it and stores nothing.', example: 'order-A-1001-purchase' })
  @IsOptional() @IsString() @Length(1, 128)
  eventKey?: string;
}

export class BulkCreateEventsDto {
  @ApiProperty({ type: [CreateEventDto], minItems: 1, maxItems: BULK_EVENTS_MAX, description: 'One invalid event fails the whole batch (400 naming its index).' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_EVENTS_MAX) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => CreateEventDto)
  events: CreateEventDto[];
}

export class ListEventsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The previous page’s `nextKey`.' })
  @IsOptional() @IsString() @Length(1, 4096)
  startKey?: string;

  @ApiIdProperty('entity', 'Events of the entity’s records.', { required: false })
  @IsOptional() @IsCrmId('entity')
  entityId?: string;

  @ApiIdProperty('record', 'Events of this record.', { required: false })
  @IsOptional() @IsCrmId('record')
  recordId?: string;

  @ApiPropertyOptional({ maxLength: 128, example: 'purchase' })
  @IsOptional() @IsString() @Length(1, 128)
  eventType?: string;

  @ApiPropertyOptional({ maxLength: 128, example: 'online' })
  @IsOptional() @IsString() @Length(1, 128)
  category?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events that occurred at or after it.', example: '2026-12-01T00:00:00Z' })
  @IsOptional() @IsDateTime()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events that occurred before it.', example: '2026-12-31T00:00:00Z' })
  @IsOptional() @IsDateTime()
  to?: string;
}

export class SummariesQueryDto {
  @ApiIdProperty('record', 'The record’s totals. Exactly one of this and `entityId`.', { required: false })
  @IsOptional() @IsCrmId('record')
  recordId?: string;

  @ApiIdProperty('entity', 'The totals over the entity’s records out of the trash. Exactly one of this and `recordId`.', { required: false })
  @IsOptional() @IsCrmId('entity')
  entityId?: string;

  @ApiPropertyOptional({ maxLength: 128, example: 'purchase' })
  @IsOptional() @IsString() @Length(1, 128)
  eventType?: string;

  @ApiPropertyOptional({ maxLength: 128, example: 'online' })
  @IsOptional() @IsString() @Length(1, 128)
  category?: string;
}

export class EventResponse {
  @ApiIdProperty('event', 'The event.')
  eventId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('record', 'The record that did it.')
  recordId: string;
  @ApiProperty({ example: 'purchase' })
  eventType: string;
  @ApiProperty({ nullable: true, example: 'online' })
  category: string | null;
  @ApiProperty({ nullable: true, example: '겨울 코트' })
  label: string | null;
  @ApiProperty({ nullable: true, example: 129000 })
  value: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { orderId: 'A-1001', items: 2 } })
  properties: Record<string, unknown>;
  @ApiProperty({ example: '2026-12-02T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  occurredAt: string;
  @ApiProperty({ nullable: true, example: 'order-A-1001-purchase' })
  eventKey: string | null;
  @ApiProperty({ example: '2026-12-02T09:15:30.456Z', description: 'When it was stored.' })
  dateCreated: string;

  static from(e: EventEntity): EventResponse {
    return {
      eventId: e.eventId,
      accountId: e.accountId,
      recordId: e.recordId,
      eventType: e.eventType,
      category: e.category,
      label: e.label,
      value: e.value === null ? null : Number(e.value),
      properties: e.properties,
      occurredAt: e.occurredAt.toISOString(),
      eventKey: e.eventKey,
      dateCreated: e.dateCreated.toISOString(),
    };
  }
}

export class BulkCreateEventsResponse {
  @ApiProperty({ description: 'Events stored.', example: 98 })
  created: number;
  @ApiProperty({ description: 'Events not stored because their `eventKey` was known (also twice in the batch).', example: 2 })
  skipped: number;
  @ApiIdProperty('event', 'The stored events, in the order of the batch.', { isArray: true })
  eventIds: string[];
}

export class EventSummaryResponse {
  @ApiProperty({ example: 'purchase' })
  eventType: string;
  @ApiProperty({ nullable: true, example: 'online' })
  category: string | null;
  @ApiProperty({ description: 'How many events.', example: 12 })
  totalCount: number;
  @ApiProperty({ description: 'The sum of their `value`s (0 when none has one).', example: 1548000 })
  totalValue: number;
  @ApiProperty({ example: '2026-12-02T09:15:30.123Z', description: 'The latest `occurredAt`.' })
  lastOccurredAt: string;

  static from(s: Pick<EventSummaryEntity, 'eventType' | 'category' | 'totalCount' | 'totalValue' | 'lastOccurredAt'>): EventSummaryResponse {
    return {
      eventType: s.eventType,
      category: s.category === '' ? null : s.category,
      totalCount: Number(s.totalCount),
      totalValue: Number(s.totalValue),
      lastOccurredAt: new Date(s.lastOccurredAt).toISOString(),
    };
  }
}
