import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ROLES, type Role } from '../../../common/auth/roles';

export class CreateApiKeyDto {
  @ApiPropertyOptional({ enum: ROLES, description: 'Defaults to the caller’s role; a role above it is a 403.', example: 'VIEWER' })
  @IsOptional() @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ maxLength: 100, description: 'A label for people.', example: 'CI deploy key' })
  @IsOptional() @IsString() @MaxLength(100)
  name?: string;
}
