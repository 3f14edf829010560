import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';

export const ACTIVITY_TYPES = ['NOTE', 'TASK', 'CALL', 'MEETING', 'EMAIL', 'MESSAGE'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
export const OUTCOMES = ['COMPLETED', 'CANCELLED', 'RESCHEDULED', 'NO_ANSWER', 'PENDING'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const VISIBILITIES = ['PUBLIC', 'PRIVATE'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** A note, task, call, meeting, e-mail or message about a record, or a calendar item without one. */
@Entity('activities')
export class ActivityEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'activity_id', type: 'varchar', length: 32 })
  activityId: string;

  @Column({ name: 'record_id', type: 'varchar', length: 32, nullable: true })
  recordId: string | null;

  /** The record's entity, copied at create; null for a calendar item. */
  @Column({ name: 'entity_id', type: 'varchar', length: 32, nullable: true })
  entityId: string | null;

  @Column({ name: 'activity_type', type: 'varchar', length: 16 })
  activityType: ActivityType;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ name: 'scheduled_at', type: 'timestamptz', precision: 3, nullable: true })
  scheduledAt: Date | null;

  @Column({ name: 'due_date', type: 'timestamptz', precision: 3, nullable: true })
  dueDate: Date | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  outcome: Outcome | null;

  @Column({ type: 'varchar', length: 8 })
  visibility: Visibility;

  @Column({ name: 'assigned_member_ids', type: 'varchar', length: 32, array: true })
  assignedMemberIds: string[];

  @Column({ name: 'related_record_ids', type: 'varchar', length: 32, array: true })
  relatedRecordIds: string[];

  @Column({ name: 'created_by', type: 'varchar', length: 32 })
  createdBy: string;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
