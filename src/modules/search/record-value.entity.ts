import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One searchable value of a record (its name, a tag, a property value, an option of a
 * MULTI_CHECKBOX), written by triggers on `records` in the writing transaction (migration
 * RecordSearchIndex). Read only by this module's SQL; mapped here so that the table has an owner.
 */
@Entity('record_values')
export class RecordValueEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 32 })
  recordId: string;

  /** A property ID, or `@name` / `@tags`. */
  @PrimaryColumn({ name: 'property_id', type: 'varchar', length: 32 })
  propertyId: string;

  /** 0 for a single value; the position of a MULTI_CHECKBOX option or a tag. */
  @PrimaryColumn({ type: 'integer' })
  ord: number;

  /** The value's search key (crm_search_key), cut to 200 characters. */
  @Column({ name: 'text_key', type: 'text', nullable: true })
  textKey: string | null;

  @Column({ name: 'num_value', type: 'double precision', nullable: true })
  numValue: number | null;

  @Column({ name: 'time_value', type: 'timestamptz', nullable: true })
  timeValue: Date | null;

  @Column({ name: 'bool_value', type: 'boolean', nullable: true })
  boolValue: boolean | null;

  /** The key's 1- and 2-grams, each prefixed with its property (or, for names, entity) ID. */
  @Column({ type: 'text', array: true, nullable: true })
  grams: string[] | null;
}
