import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../../common/auth/roles';
import { DateCreatedColumn, NullableDateColumn } from '../../common/persistence/columns';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'api_key', type: 'varchar', length: 16 })
  apiKey: string;

  @Column({ name: 'member_id', type: 'varchar', length: 32 })
  memberId: string;

  @Column({ type: 'text' })
  role: Role;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  /** AES-256-GCM under the master key, bound to `apiKey` (see SecretBox). Never the plaintext. */
  @Column({ name: 'secret_encrypted', type: 'bytea', select: false })
  secretEncrypted: Buffer;

  @DateCreatedColumn()
  dateCreated: Date;

  @NullableDateColumn('date_revoked')
  dateRevoked: Date | null;
}
