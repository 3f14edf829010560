import type { Role } from '../../../common/auth/roles';
import type { ApiKeyEntity } from '../api-key.entity';

export class ApiKeyResponse {
  apiKey: string;
  role: Role;
  name: string | null;
  memberId: string;
  dateCreated: string;
  /** Set once the key is revoked. */
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
  apiKey: string;
  /** Shown this once; only its AES-256-GCM ciphertext is stored. */
  apiSecret: string;
  role: Role;
  name: string | null;
  memberId: string;
  dateCreated: string;
}
