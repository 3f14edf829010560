import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { FIELD_TYPES, type FieldType } from '../field-types';
import type { PropertyEntity } from '../property.entity';

export class PropertyOptionDto {
  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Shown to people.', example: 'Gold' })
  @IsString() @Length(1, 100)
  label: string;

  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Stored in record data; distinct within the property.', example: 'gold' })
  @IsString() @Length(1, 100)
  value: string;

  @ApiProperty({ type: 'integer', description: 'Display order.', example: 1 })
  @IsInt()
  priority: number;
}

export class CreatePropertyDto {
  @ApiIdProperty('entity', 'The entity this property is a field of.')
  @IsCrmId('entity')
  entityId: string;

  @ApiProperty({ minLength: 1, maxLength: 100, description: 'Unique in its entity.', example: 'Tier' })
  @IsString() @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ description: 'At most 63 characters of [a-z0-9_], starting with a lowercase letter; unique in its entity.', pattern: '^[a-z][a-z0-9_]{0,62}$', nullable: true, example: 'tier' })
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_]{0,62}$/, { message: 'key: 영문 소문자로 시작하는 63자 이하의 [a-z0-9_] 이어야 합니다.' })
  key?: string | null;

  @ApiProperty({ enum: FIELD_TYPES, description: 'How record values are checked (docs/conventions.md); fixed once created.', example: 'DROPDOWN' })
  @IsIn(FIELD_TYPES)
  fieldType: FieldType;

  @ApiPropertyOptional({ default: false, description: 'Every record of the entity must have a value.' })
  @IsOptional() @IsBoolean()
  required?: boolean;

  @ApiPropertyOptional({
    type: [PropertyOptionDto],
    maxItems: 200,
    description: 'For DROPDOWN, RADIO and MULTI_CHECKBOX (at least one, distinct values); not allowed for other types.',
  })
  @IsOptional() @IsArray() @ArrayMaxSize(200) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => PropertyOptionDto)
  options?: PropertyOptionDto[];

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'Loyalty tier' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

/** The entity and the field type are fixed once created; `options` is replaced whole. */
export class UpdatePropertyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Unique in its entity.', example: 'Level' })
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ description: 'At most 63 characters of [a-z0-9_], starting with a lowercase letter; unique in its entity.' + ' `null` removes the key.', pattern: '^[a-z][a-z0-9_]{0,62}$', nullable: true, example: 'level' })
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_]{0,62}$/, { message: 'key: 영문 소문자로 시작하는 63자 이하의 [a-z0-9_] 이어야 합니다.' })
  key?: string | null;

  @ApiPropertyOptional()
  @IsOptionalNotNull() @IsBoolean()
  required?: boolean;

  @ApiPropertyOptional({ type: [PropertyOptionDto], maxItems: 200, description: 'Replaces the options whole.' })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(200) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => PropertyOptionDto)
  options?: PropertyOptionDto[];

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, description: '`null` clears it.' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class BulkCreatePropertiesDto {
  @ApiProperty({ type: [CreatePropertyDto], minItems: 1, maxItems: 500, description: 'Created all or none.' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => CreatePropertyDto)
  properties: CreatePropertyDto[];
}

export class ListPropertiesQueryDto extends PageQueryDto {
  @ApiIdProperty('entity', 'The entity whose properties to list.')
  @IsCrmId('entity')
  entityId: string;
}

export class PropertyResponse {
  @ApiIdProperty('property', 'The property; record data is keyed by it.')
  propertyId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiIdProperty('entity', 'The entity it is a field of.')
  entityId: string;
  @ApiProperty({ example: 'Tier' })
  name: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'tier' })
  key: string | null;
  @ApiProperty({ enum: FIELD_TYPES, example: 'DROPDOWN' })
  fieldType: FieldType;
  @ApiProperty()
  required: boolean;
  @ApiProperty({ type: [PropertyOptionDto], description: 'Empty for types without options.' })
  options: PropertyOptionDto[];
  @ApiProperty({ type: 'string', nullable: true, example: 'Loyalty tier' })
  description: string | null;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(p: PropertyEntity): PropertyResponse {
    return {
      propertyId: p.propertyId,
      accountId: p.accountId,
      entityId: p.entityId,
      name: p.name,
      key: p.key,
      fieldType: p.fieldType,
      required: p.required,
      options: p.options,
      description: p.description,
      dateCreated: p.dateCreated.toISOString(),
      dateUpdated: p.dateUpdated.toISOString(),
    };
  }
}

/** The answer of POST /properties/bulk. */
export class BulkCreatedPropertiesResponse {
  @ApiProperty({ type: [PropertyResponse], description: 'The created properties, in the order sent.' })
  data: PropertyResponse[];
}
