import { IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import type { EntityEntity } from '../entity.entity';

export class CreateEntityDto {
  @IsString() @Length(1, 100)
  name: string;

  /** 1–64 characters of [a-z0-9_-], starting with a letter; unique in the account. */
  @IsString() @Matches(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'slug: 영문 소문자로 시작하는 1–64자의 [a-z0-9_-] 이어야 합니다.' })
  slug: string;

  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class UpdateEntityDto {
  @IsOptionalNotNull() @IsString() @Length(1, 100)
  name?: string;

  @IsOptionalNotNull() @IsString() @Matches(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'slug: 영문 소문자로 시작하는 1–64자의 [a-z0-9_-] 이어야 합니다.' })
  slug?: string;

  /** null clears it. */
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

export class ListEntitiesQueryDto extends PageQueryDto {
  /** Matches the name, case-insensitively. */
  @IsOptional() @IsString() @Length(1, 100)
  keyword?: string;
}

export class EntityResponse {
  entityId: string;
  accountId: string;
  name: string;
  slug: string;
  description: string | null;
  dateCreated: string;
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
