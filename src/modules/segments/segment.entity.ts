import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';

/** A saved condition group over one entity's records (SPEC §9); its members are found when read. */
@Entity('segments')
export class SegmentEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'segment_id', type: 'varchar', length: 32 })
  segmentId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'text', nullable: true })
  color: string | null;

  @Column({ name: 'condition_group', type: 'jsonb' })
  conditionGroup: object;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive: boolean;

  @Column({ type: 'integer' })
  priority: number;

  @Column({ name: 'created_by', type: 'varchar', length: 32 })
  createdBy: string;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
