import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import type { EntityEntity } from '../entity.entity';

export class CreateEntityDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Contact' })
  @IsString() @Length(1, 100)
  name: string;

  @ApiProperty({ description: '1–64 characters of [a-z0-9_-], starting with a letter; unique in the account.', pattern: '^[a-z][a-z0-9_-]{0,63}$', example: 'contact' })
  @IsString() @Matches(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'slug: 영문 소문자로 시작하는 1–64자의 [a-z0-9_-] 이어야 합니다.' })
  slug: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'People we talk to' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class UpdateEntityDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Customer' })
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ description: '1–64 characters of [a-z0-9_-], starting with a letter; unique in the account.', pattern: '^[a-z][a-z0-9_-]{0,63}$', example: 'customer' })
  @IsOptionalNotNull() @IsString() @Matches(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'slug: 영문 소문자로 시작하는 1–64자의 [a-z0-9_-] 이어야 합니다.' })
  slug?: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, description: '`null` clears it.' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class ListEntitiesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, description: 'Matches the name, case-insensitively.', example: 'cont' })
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;
}

export class EntityResponse {
  @ApiIdProperty('entity', 'The entity.')
  entityId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiProperty({ example: 'Contact' })
  name: string;
  @ApiProperty({ example: 'contact' })
  slug: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'People we talk to' })
  description: string | null;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateCreated: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z', description: 'ISO 8601 UTC, milliseconds.' })
  dateUpdated: string;

  static from(e: EntityEntity): EntityResponse {
    return {
      entityId: e.entityId,
      accountId: e.accountId,
      name: e.name,
      slug: e.slug,
      description: e.description,
      dateCreated: e.dateCreated.toISOString(),
      dateUpdated: e.dateUpdated.toISOString(),
    };
  }
}
