import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { CARDINALITIES, type Cardinality } from '../cardinality';
import type { RelationshipTypeEntity } from '../relationship-type.entity';

export class CreateRelationshipTypeDto {
  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Unique in the account together with the two entities.', example: 'works at' })
  @IsString() @Length(1, 100)
  name: string;

  @ApiIdProperty('entity', 'The source side’s entity.')
  @IsCrmId('entity')
  sourceEntityId: string;

  @ApiIdProperty('entity', 'The target side’s entity (may be the source’s).')
  @IsCrmId('entity')
  targetEntityId: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, nullable: true, description: 'The name of the link seen from the source side.', example: 'employer' })
  @IsOptional() @IsString() @Length(1, 100)
  sourceLabel?: string | null;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, nullable: true, description: 'The name of the link seen from the target side.', example: 'employee' })
  @IsOptional() @IsString() @Length(1, 100)
  targetLabel?: string | null;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'Where a contact works' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;

  @ApiPropertyOptional({ enum: CARDINALITIES, default: 'MANY_TO_MANY', description: 'Fixed once created; see docs/relationships.md.' })
  @IsOptional() @IsIn(CARDINALITIES)
  cardinality?: Cardinality;
}

/** Only the name, the description and the labels may change. */
export class UpdateRelationshipTypeDto extends PickType(CreateRelationshipTypeDto, ['sourceLabel', 'targetLabel', 'description'] as const) {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'employed by' })
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;
}

export class ListRelationshipTypesQueryDto {
  @ApiIdProperty('entity', 'Types with this entity on either side.', { required: false })
  @IsOptional() @IsCrmId('entity')
  entityId?: string;
}

export class RelationshipTypeResponse {
  @ApiIdProperty('relationshipType', 'The relationship type.')
  relationshipTypeId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiProperty({ example: 'works at' })
  name: string;
  @ApiIdProperty('entity', 'The source side’s entity.')
  sourceEntityId: string;
  @ApiIdProperty('entity', 'The target side’s entity.')
  targetEntityId: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'employer' })
  sourceLabel: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: 'employee' })
  targetLabel: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: null })
  description: string | null;
  @ApiProperty({ enum: CARDINALITIES, example: 'MANY_TO_MANY' })
  cardinality: Cardinality;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(t: RelationshipTypeEntity): RelationshipTypeResponse {
    return {
      relationshipTypeId: t.relationshipTypeId,
      accountId: t.accountId,
      name: t.name,
      sourceEntityId: t.sourceEntityId,
      targetEntityId: t.targetEntityId,
      sourceLabel: t.sourceLabel,
      targetLabel: t.targetLabel,
      description: t.description,
      cardinality: t.cardinality,
      dateCreated: t.dateCreated.toISOString(),
      dateUpdated: t.dateUpdated.toISOString(),
    };
  }
}
