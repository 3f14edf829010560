import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ROLES, type Role } from '../../../common/auth/roles';

export class CreateApiKeyDto {
  /** Defaults to the caller's role; a role above it is a 403. */
  @IsOptional() @IsIn(ROLES)
  role?: Role;

  @IsOptional() @IsString() @MaxLength(100)
  name?: string;
}
