import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn, NullableDateColumn } from '../../common/persistence/columns';
import type { RecordData } from './record-data';

@Entity('records')
export class RecordEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 32 })
  recordId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ type: 'text' })
  name: string;

  /** Values keyed by the entity's property IDs. */
  @Column({ type: 'jsonb' })
  data: RecordData;

  @Column({ type: 'text', array: true })
  tags: string[];

  /** In the trash: hidden from lists, its relationships hidden, restorable. */
  @Column({ name: 'is_deleted', type: 'boolean' })
  isDeleted: boolean;

  @NullableDateColumn('deleted_at')
  deletedAt: Date | null;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
