import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { FIELD_TYPES, type FieldType } from '../field-types';
import type { PropertyEntity } from '../property.entity';

export class PropertyOptionDto {
  @IsString() @Length(1, 100)
  label: string;

  @IsString() @Length(1, 100)
  value: string;

  @IsInt()
  priority: number;
}

export class CreatePropertyDto {
  @IsCrmId('entity')
  entityId: string;

  /** Unique in its entity. */
  @IsString() @Length(1, 100)
  name: string;

  /** At most 63 characters of [a-z0-9_], starting with a lowercase letter; unique in its entity. */
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_]{0,62}$/, { message: 'key: 영문 소문자로 시작하는 63자 이하의 [a-z0-9_] 이어야 합니다.' })
  key?: string | null;

  @IsIn(FIELD_TYPES)
  fieldType: FieldType;

  @IsOptional() @IsBoolean()
  required?: boolean;

  /** For DROPDOWN, RADIO and MULTI_CHECKBOX (at least one, distinct values); not allowed for other types. */
  @IsOptional() @IsArray() @ArrayMaxSize(200) @ValidateNested({ each: true }) @Type(() => PropertyOptionDto)
  options?: PropertyOptionDto[];

  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

/** The entity and the field type are fixed once created; `options` is replaced whole. */
export class UpdatePropertyDto {
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;

  /** null removes the key. */
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_]{0,62}$/, { message: 'key: 영문 소문자로 시작하는 63자 이하의 [a-z0-9_] 이어야 합니다.' })
  key?: string | null;

  @IsOptionalNotNull() @IsBoolean()
  required?: boolean;

  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(200) @ValidateNested({ each: true }) @Type(() => PropertyOptionDto)
  options?: PropertyOptionDto[];

  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class BulkCreatePropertiesDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @ValidateNested({ each: true }) @Type(() => CreatePropertyDto)
  properties: CreatePropertyDto[];
}

export class ListPropertiesQueryDto extends PageQueryDto {
  @IsCrmId('entity')
  entityId: string;
}

export class PropertyResponse {
  propertyId: string;
  accountId: string;
  entityId: string;
  name: string;
  key: string | null;
  fieldType: FieldType;
  required: boolean;
  options: PropertyOptionDto[];
  description: string | null;
  dateCreated: string;
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
