import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { MaxJsonSize } from '../../../common/http/max-json-size.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty, exampleId } from '../../../common/openapi/api-id-property.decorator';
import type { RelationshipEntity } from '../relationship.entity';

/** A relationship as lists read it: with the names of its two records. */
export type NamedRelationship = RelationshipEntity & { sourceRecordName: string; targetRecordName: string };

export const METADATA_MAX_BYTES = 16 * 1024;
export const BULK_MAX_PAIRS = 10_000;
/** How many sources a bulk-match may list (SPEC §10); a `sourceFilter` may match up to SOURCE_FILTER_MAX. */
export const BULK_MATCH_MAX_LISTED = 500;
export const MATCH_MODES = ['FIRST', 'ALL'] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

const METADATA_EXAMPLE = { role: 'buyer', since: '2026-04-01' };

/**
 * ApiIdProperty gives every record field the same example ID; the target side gets others, or the
 * example a user sends with "Try it out" would be a self-link, which the API refuses.
 */
const TargetRecordExample = () => ApiProperty({ example: exampleId('CRMRC', 5) });
const TargetRecordsExample = () => ApiProperty({ example: [exampleId('CRMRC', 5), exampleId('CRMRC', 6)] });

export class CreateRelationshipDto {
  @ApiIdProperty('relationshipType', 'The relationship type that links the two records.')
  @IsCrmId('relationshipType')
  relationshipTypeId: string;

  @ApiIdProperty('entity', 'The source record’s entity: the type’s source entity, or its target entity when the request is given in reverse (then stored swapped).')
  @IsCrmId('entity')
  sourceEntityId: string;

  @ApiIdProperty('record', 'A record of `sourceEntityId`, in the account and out of the trash.')
  @IsCrmId('record')
  sourceRecordId: string;

  @ApiIdProperty('entity', 'The target record’s entity: the other side of the type.')
  @IsCrmId('entity')
  targetEntityId: string;

  @TargetRecordExample()
  @ApiIdProperty('record', 'A record of `targetEntityId`, in the account and out of the trash; not `sourceRecordId` (a self-link is a 400).')
  @IsCrmId('record')
  targetRecordId: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {}, description: 'Any JSON object of at most 16 KiB; `{}` when absent.', example: METADATA_EXAMPLE })
  @IsOptional() @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata?: Record<string, any>;
}

export class UpdateRelationshipDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Replaces the metadata whole; any JSON object of at most 16 KiB (`{}` empties it).', example: { role: 'champion' } })
  @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata: Record<string, any>;
}

/** The sources of a bulk given as a question (SPEC §10): the source entity's records that match it now, out of the trash. */
export class SourceFilterDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Part of the name, any case.', example: '김' })
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'The short form of docs/search.md: `{ "<field>": value | { op, value } }`, ANDed.', example: { name: { op: 'startsWith', value: '김' } } })
  @IsOptional() @IsObject()
  filters?: object;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A condition group of docs/search.md.', example: { operator: 'AND', conditions: [{ field: 'tags', operator: 'containsAny', value: ['vip'] }] } })
  @IsOptional() @IsObject()
  conditionGroup?: object;

  @ApiIdProperty('segment', 'A segment of the source entity.', { required: false })
  @IsOptional() @IsCrmId('segment')
  segmentId?: string;
}

export class BulkCreateRelationshipsDto {
  @ApiIdProperty('relationshipType', 'The relationship type that links every pair.')
  @IsCrmId('relationshipType')
  relationshipTypeId: string;

  @ApiIdProperty('entity', 'The source records’ entity; given in the reverse of the type’s direction, every pair is stored swapped.')
  @IsCrmId('entity')
  sourceEntityId: string;

  @ApiIdProperty('record', 'Records of `sourceEntityId`, each paired with every target; repeated IDs count once. Exactly one of this and `sourceFilter`.', {
    isArray: true,
    minItems: 1,
    maxItems: BULK_MAX_PAIRS,
    required: false,
  })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_MAX_PAIRS) @IsCrmId('record', { each: true })
  sourceRecordIds?: string[];

  @ApiPropertyOptional({ type: SourceFilterDto, description: 'The sources as a question: the source entity’s records that match it now, out of the trash (at most 5,000). Exactly one of this and `sourceRecordIds`.' })
  @IsOptional() @ValidateNested() @Type(() => SourceFilterDto)
  sourceFilter?: SourceFilterDto;

  @ApiIdProperty('entity', 'The target records’ entity: the other side of the type.')
  @IsCrmId('entity')
  targetEntityId: string;

  @TargetRecordsExample()
  @ApiIdProperty('record', 'Records of `targetEntityId`; repeated IDs count once. Sources × targets is at most 10,000 pairs.', { isArray: true, minItems: 1, maxItems: BULK_MAX_PAIRS })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_MAX_PAIRS) @IsCrmId('record', { each: true })
  targetRecordIds: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {}, description: 'Stored on every created relationship; any JSON object of at most 16 KiB, `{}` when absent.', example: METADATA_EXAMPLE })
  @IsOptional() @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata?: Record<string, any>;
}

export class MatchCriterionDto {
  @ApiProperty({ description: 'A field of the source entity: `name` or `data.<propertyId>` of a TEXT, TEXTAREA, URL, EMAIL, PHONE, NUMBER, DROPDOWN or RADIO property.', example: 'data.CRMPP1260423091530123PRP11122233' })
  @IsString() @Length(1, 200)
  myField: string;

  @ApiProperty({ description: 'The field of the target entity whose value must equal it, of the same kinds.', example: 'data.CRMPP1260423091530123PRP11122244' })
  @IsString() @Length(1, 200)
  counterField: string;
}

export class BulkMatchRelationshipsDto {
  @ApiIdProperty('relationshipType', 'The relationship type that links every matched pair.')
  @IsCrmId('relationshipType')
  relationshipTypeId: string;

  @ApiIdProperty('entity', 'The source records’ entity; given in the reverse of the type’s direction, every pair is stored swapped.')
  @IsCrmId('entity')
  sourceEntityId: string;

  @ApiIdProperty('record', `Records of \`sourceEntityId\` (1–${BULK_MATCH_MAX_LISTED}); repeated IDs count once. Exactly one of this and \`sourceFilter\`.`, {
    isArray: true,
    minItems: 1,
    maxItems: BULK_MATCH_MAX_LISTED,
    required: false,
  })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_MATCH_MAX_LISTED) @IsCrmId('record', { each: true })
  sourceRecordIds?: string[];

  @ApiPropertyOptional({ type: SourceFilterDto, description: 'The sources as a question: the source entity’s records that match it now, out of the trash (at most 5,000). Exactly one of this and `sourceRecordIds`.' })
  @IsOptional() @ValidateNested() @Type(() => SourceFilterDto)
  sourceFilter?: SourceFilterDto;

  @ApiIdProperty('entity', 'The entity whose records are matched: the other side of the type.')
  @IsCrmId('entity')
  targetEntityId: string;

  @ApiProperty({ type: [MatchCriterionDto], minItems: 1, maxItems: 5, description: 'A target matches a source when their values are equal on every criterion (trimmed, NFC, any case; phone numbers by their digits; an empty value never matches).' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(5) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => MatchCriterionDto)
  criteria: MatchCriterionDto[];

  @ApiPropertyOptional({ enum: MATCH_MODES, default: 'FIRST', description: '`FIRST`: each source’s oldest matching target (`dateCreated`, then `recordId`). `ALL`: every matching target, at most 10,000 pairs in all.' })
  @IsOptional() @IsIn(MATCH_MODES)
  matchMode?: MatchMode;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: {}, description: 'Stored on every created relationship; any JSON object of at most 16 KiB, `{}` when absent.', example: METADATA_EXAMPLE })
  @IsOptional() @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata?: Record<string, any>;
}

export class ListRelationshipsQueryDto extends PageQueryDto {
  @ApiIdProperty('relationshipType', 'Relationships of this type.', { required: false })
  @IsOptional() @IsCrmId('relationshipType')
  relationshipTypeId?: string;

  @ApiIdProperty('entity', 'Relationships with this entity on either side.', { required: false })
  @IsOptional() @IsCrmId('entity')
  entityId?: string;

  @ApiIdProperty('record', 'Relationships with this record on either side.', { required: false })
  @IsOptional() @IsCrmId('record')
  recordId?: string;

  @ApiIdProperty('record', 'Relationships with this record as their source.', { required: false })
  @IsOptional() @IsCrmId('record')
  sourceRecordId?: string;

  @ApiIdProperty('record', 'Relationships with this record as their target.', { required: false })
  @IsOptional() @IsCrmId('record')
  targetRecordId?: string;
}

/** A relationship as stored: normalized to its type's direction. */
export class RelationshipResponse {
  @ApiIdProperty('relationship', 'The relationship.')
  relationshipId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('relationshipType', 'Its relationship type.')
  relationshipTypeId: string;
  @ApiIdProperty('entity', 'The type’s source entity.')
  sourceEntityId: string;
  @ApiIdProperty('record', 'The source record.')
  sourceRecordId: string;
  @ApiIdProperty('entity', 'The type’s target entity.')
  targetEntityId: string;
  @TargetRecordExample()
  @ApiIdProperty('record', 'The target record.')
  targetRecordId: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'As sent; `{}` when none was.', example: METADATA_EXAMPLE })
  metadata: Record<string, any>;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(r: RelationshipEntity): RelationshipResponse {
    return {
      relationshipId: r.relationshipId,
      accountId: r.accountId,
      relationshipTypeId: r.relationshipTypeId,
      sourceEntityId: r.sourceEntityId,
      sourceRecordId: r.sourceRecordId,
      targetEntityId: r.targetEntityId,
      targetRecordId: r.targetRecordId,
      metadata: r.metadata,
      dateCreated: r.dateCreated.toISOString(),
      dateUpdated: r.dateUpdated.toISOString(),
    };
  }
}

/** A list item: the relationship with the names of its two records. */
export class RelationshipListItem extends RelationshipResponse {
  @ApiProperty({ description: 'The source record’s name.', example: '홍길동' })
  sourceRecordName: string;
  @ApiProperty({ description: 'The target record’s name.', example: 'Acme' })
  targetRecordName: string;

  static override from(r: NamedRelationship): RelationshipListItem {
    return { ...RelationshipResponse.from(r), sourceRecordName: r.sourceRecordName, targetRecordName: r.targetRecordName };
  }
}

export class BulkCreateRelationshipsResponse {
  @ApiProperty({ description: 'How many relationships were created.', example: 2 })
  created: number;
  @ApiProperty({ description: 'Pairs left out: those that already existed, and self-links.', example: 1 })
  skipped: number;
  @ApiIdProperty('relationship', 'The created relationships, sorted by ID.', { isArray: true })
  relationshipIds: string[];
}

export class BulkMatchRelationshipsResponse {
  @ApiProperty({ description: 'Sources that matched at least one target.', example: 2 })
  matched: number;
  @ApiProperty({ description: 'Sources that matched none.', example: 1 })
  unmatched: number;
  @ApiProperty({ description: 'Pairs created.', example: 2 })
  created: number;
  @ApiProperty({ description: 'Matched pairs that already existed (also in the reverse direction).', example: 0 })
  skipped: number;
  @ApiIdProperty('relationship', 'The created relationships, sorted by ID.', { isArray: true })
  relationshipIds: string[];
}
