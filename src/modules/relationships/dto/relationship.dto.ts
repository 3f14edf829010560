import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsOptional } from 'class-validator';
import { MaxJsonSize } from '../../../common/http/max-json-size.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import type { RelationshipEntity } from '../relationship.entity';

/** A relationship as lists read it: with the names of its two records. */
export type NamedRelationship = RelationshipEntity & { sourceRecordName: string; targetRecordName: string };

export const METADATA_MAX_BYTES = 16 * 1024;
export const BULK_MAX_PAIRS = 10_000;

export class CreateRelationshipDto {
  @IsCrmId('relationshipType')
  relationshipTypeId: string;

  @IsCrmId('entity')
  sourceEntityId: string;

  @IsCrmId('record')
  sourceRecordId: string;

  @IsCrmId('entity')
  targetEntityId: string;

  @IsCrmId('record')
  targetRecordId: string;

  /** Any JSON object of at most 16 KiB; `{}` when absent. */
  @IsOptional() @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata?: Record<string, any>;
}

export class UpdateRelationshipDto {
  /** Replaces the metadata whole. */
  @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata: Record<string, any>;
}

export class BulkCreateRelationshipsDto {
  @IsCrmId('relationshipType')
  relationshipTypeId: string;

  @IsCrmId('entity')
  sourceEntityId: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_MAX_PAIRS) @IsCrmId('record', { each: true })
  sourceRecordIds: string[];

  @IsCrmId('entity')
  targetEntityId: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(BULK_MAX_PAIRS) @IsCrmId('record', { each: true })
  targetRecordIds: string[];

  @IsOptional() @IsObject() @MaxJsonSize(METADATA_MAX_BYTES)
  metadata?: Record<string, any>;
}

export class ListRelationshipsQueryDto extends PageQueryDto {
  @IsOptional() @IsCrmId('relationshipType')
  relationshipTypeId?: string;

  /** Relationships with this entity on either side. */
  @IsOptional() @IsCrmId('entity')
  entityId?: string;

  /** Relationships with this record on either side. */
  @IsOptional() @IsCrmId('record')
  recordId?: string;

  @IsOptional() @IsCrmId('record')
  sourceRecordId?: string;

  @IsOptional() @IsCrmId('record')
  targetRecordId?: string;
}

export class RelationshipResponse {
  relationshipId: string;
  accountId: string;
  relationshipTypeId: string;
  sourceEntityId: string;
  sourceRecordId: string;
  targetEntityId: string;
  targetRecordId: string;
  metadata: Record<string, any>;
  dateCreated: string;
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
  sourceRecordName: string;
  targetRecordName: string;

  static override from(r: NamedRelationship): RelationshipListItem {
    return { ...RelationshipResponse.from(r), sourceRecordName: r.sourceRecordName, targetRecordName: r.targetRecordName };
  }
}

export class BulkCreateRelationshipsResponse {
  created: number;
  /** Pairs that already existed, and self-links. */
  skipped: number;
  relationshipIds: string[];
}
