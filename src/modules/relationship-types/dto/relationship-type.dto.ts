import { PickType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { CARDINALITIES, type Cardinality } from '../cardinality';
import type { RelationshipTypeEntity } from '../relationship-type.entity';

export class CreateRelationshipTypeDto {
  /** Unique in the account together with the two entities. */
  @IsString() @Length(1, 100)
  name: string;

  @IsCrmId('entity')
  sourceEntityId: string;

  @IsCrmId('entity')
  targetEntityId: string;

  /** The name of the link seen from the source side. */
  @IsOptional() @IsString() @Length(1, 100)
  sourceLabel?: string | null;

  /** The name of the link seen from the target side. */
  @IsOptional() @IsString() @Length(1, 100)
  targetLabel?: string | null;

  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;

  /** Defaults to MANY_TO_MANY; fixed once created. */
  @IsOptional() @IsIn(CARDINALITIES)
  cardinality?: Cardinality;
}

/** Only the name, the description and the labels may change. */
export class UpdateRelationshipTypeDto extends PickType(CreateRelationshipTypeDto, ['sourceLabel', 'targetLabel', 'description'] as const) {
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;
}

export class ListRelationshipTypesQueryDto {
  /** Types with this entity on either side. */
  @IsOptional() @IsCrmId('entity')
  entityId?: string;
}

export class RelationshipTypeResponse {
  relationshipTypeId: string;
  accountId: string;
  name: string;
  sourceEntityId: string;
  targetEntityId: string;
  sourceLabel: string | null;
  targetLabel: string | null;
  description: string | null;
  cardinality: Cardinality;
  dateCreated: string;
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
