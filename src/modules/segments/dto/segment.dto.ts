import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import type { SegmentEntity } from '../segment.entity';

const CONDITION_GROUP_EXAMPLE = {
  operator: 'AND',
  conditions: [
    { field: 'tags', operator: 'containsAny', value: ['vip'] },
    { field: 'dateCreated', operator: 'gte', value: '2026-01-01T00:00:00+09:00' },
  ],
};

export class CreateSegmentDto {
  @ApiIdProperty('entity', 'The entity whose records the segment holds; fixed once created.')
  @IsCrmId('entity')
  entityId: string;

  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Unique among the entity’s segments.', example: 'VIP customers' })
  @IsString() @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'Tagged VIP this year' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;

  @ApiPropertyOptional({ nullable: true, pattern: '^#[0-9A-Fa-f]{6}$', example: '#FF8800' })
  @IsOptional() @IsString() @Matches(/^#[0-9A-Fa-f]{6}$/)
  color?: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The condition language of docs/search.md, over the entity’s fields.',
    example: CONDITION_GROUP_EXAMPLE,
  })
  @IsObject()
  conditionGroup: object;

  @ApiPropertyOptional({ default: true, description: 'Stored and returned for clients; membership does not depend on it.' })
  @IsOptional() @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ default: 0, description: 'Lists sort by it, ascending.', example: 0 })
  @IsOptional() @IsInt() @Min(-1_000_000) @Max(1_000_000)
  priority?: number;
}

/** Any field but `entityId` (a 400). */
export class UpdateSegmentDto extends PartialType(OmitType(CreateSegmentDto, ['entityId', 'name', 'conditionGroup', 'isActive', 'priority'] as const)) {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'VIP customers in Seoul' })
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Replaces the conditions whole.', example: CONDITION_GROUP_EXAMPLE })
  @IsOptionalNotNull() @IsObject()
  conditionGroup?: object;

  @ApiPropertyOptional({ example: false })
  @IsOptionalNotNull() @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ example: 10 })
  @IsOptionalNotNull() @IsInt() @Min(-1_000_000) @Max(1_000_000)
  priority?: number;
}

export class ListSegmentsQueryDto {
  @ApiIdProperty('entity', 'The entity whose segments to list.')
  @IsCrmId('entity')
  entityId: string;
}

export class SegmentResponse {
  @ApiIdProperty('segment', 'The segment.')
  segmentId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('entity', 'The entity whose records it holds.')
  entityId: string;
  @ApiProperty({ example: 'VIP customers' })
  name: string;
  @ApiProperty({ nullable: true, type: String, example: 'Tagged VIP this year' })
  description: string | null;
  @ApiProperty({ nullable: true, type: String, example: '#FF8800' })
  color: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: CONDITION_GROUP_EXAMPLE })
  conditionGroup: object;
  @ApiProperty({ example: true })
  isActive: boolean;
  @ApiProperty({ example: 0 })
  priority: number;
  @ApiIdProperty('member', 'The member whose key created it.')
  createdBy: string;
  @ApiProperty({ example: '2026-03-01T09:00:00.000Z' })
  dateCreated: string;
  @ApiProperty({ example: '2026-03-01T09:00:00.000Z' })
  dateUpdated: string;

  static from(s: SegmentEntity): SegmentResponse {
    return {
      segmentId: s.segmentId,
      accountId: s.accountId,
      entityId: s.entityId,
      name: s.name,
      description: s.description,
      color: s.color,
      conditionGroup: s.conditionGroup,
      isActive: s.isActive,
      priority: s.priority,
      createdBy: s.createdBy,
      dateCreated: s.dateCreated.toISOString(),
      dateUpdated: s.dateUpdated.toISOString(),
    };
  }
}

export class SegmentCountResponse {
  @ApiProperty({ description: 'How many records match now, out of the trash.', example: 42 })
  count: number;
}
