import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn } from '../../common/persistence/columns';

/** What a record did, with an optional value; never changed once stored. */
@Entity('events')
export class EventEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 32 })
  eventId: string;

  @Column({ name: 'record_id', type: 'varchar', length: 32 })
  recordId: string;

  /** The record's entity, copied when stored (a record never changes entity). */
  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 128 })
  eventType: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  category: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  label: string | null;

  /** numeric: pg answers it as a string, exact. */
  @Column({ type: 'numeric', nullable: true })
  value: string | null;

  @Column({ type: 'jsonb' })
  properties: Record<string, unknown>;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3 })
  occurredAt: Date;

  @Column({ name: 'event_key', type: 'varchar', length: 128, nullable: true })
  eventKey: string | null;

  @DateCreatedColumn()
  dateCreated: Date;
}

/** The running totals of one record's events of one type and category (kept by a trigger, migration CreateEvents). */
@Entity('event_summaries')
export class EventSummaryEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 32 })
  recordId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @PrimaryColumn({ name: 'event_type', type: 'varchar', length: 128 })
  eventType: string;

  /** '' for events without a category. */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  category: string;

  @Column({ name: 'total_count', type: 'bigint' })
  totalCount: string;

  @Column({ name: 'total_value', type: 'numeric' })
  totalValue: string;

  @Column({ name: 'last_occurred_at', type: 'timestamptz', precision: 3 })
  lastOccurredAt: Date;
}
