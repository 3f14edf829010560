import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '../../../common/auth/roles';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import type { ApiKeyEntity } from '../api-key.entity';

export class ApiKeyResponse {
  @ApiProperty({ pattern: '^NCS[A-Z0-9]{13}$', example: 'NCSK7Q2M9X4B1Z8P', description: 'The API key: NCS and 13 characters of [A-Z0-9].' })
  apiKey: string;
  @ApiProperty({ enum: ROLES, description: 'The key’s own role; a request acts with the lower of it and its member’s.', example: 'DEVELOPER' })
  role: Role;
  @ApiProperty({ type: 'string', nullable: true, example: 'CI deploy key' })
  name: string | null;
  @ApiIdProperty('member', 'The member who owns the key.')
  memberId: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z' })
  dateCreated: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'Set once the key is revoked.', example: null })
  dateRevoked: string | null;

  static from(key: ApiKeyEntity): ApiKeyResponse {
    return {
      apiKey: key.apiKey,
      role: key.role,
      name: key.name,
      memberId: key.memberId,
      dateCreated: key.dateCreated.toISOString(),
      dateRevoked: key.dateRevoked?.toISOString() ?? null,
    };
  }
}

/** The only answer that ever carries the secret: the key's creation. */
export class CreatedApiKeyResponse {
  @ApiProperty({ pattern: '^NCS[A-Z0-9]{13}$', example: 'NCSK7Q2M9X4B1Z8P', description: 'The API key: NCS and 13 characters of [A-Z0-9].' })
  apiKey: string;
  @ApiProperty({ pattern: '^[A-Z0-9]{32}$', example: 'Q3ZP0W8M1R5T7Y2U4I6O9A8S7D6F5G4H', description: 'Shown this once; only its AES-256-GCM ciphertext is stored.' })
  apiSecret: string;
  @ApiProperty({ enum: ROLES, description: 'The key’s own role; a request acts with the lower of it and its member’s.', example: 'DEVELOPER' })
  role: Role;
  @ApiProperty({ type: 'string', nullable: true, example: 'CI deploy key' })
  name: string | null;
  @ApiIdProperty('member', 'The member who owns the key.')
  memberId: string;
  @ApiProperty({ example: '2026-04-23T09:15:30.123Z' })
  dateCreated: string;
}
