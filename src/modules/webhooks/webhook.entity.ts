import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';

/** A subscription of an account to some kinds of change, sent to one URL (SPEC §14). */
@Entity('webhooks')
export class WebhookEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'webhook_id', type: 'varchar', length: 32 })
  webhookId: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'varchar', length: 32, array: true })
  events: string[];

  /** Only changes of these entities' records and relationships; null for every entity. */
  @Column({ name: 'entity_ids', type: 'varchar', length: 32, array: true, nullable: true })
  entityIds: string[] | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description: string | null;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive: boolean;

  /** The signing secret, AES-256-GCM under the master key, bound to the webhook's ID (SecretBox). */
  @Column({ name: 'secret_encrypted', type: 'bytea', select: false })
  secretEncrypted: Buffer;

  @Column({ name: 'created_by', type: 'varchar', length: 32 })
  createdBy: string;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
