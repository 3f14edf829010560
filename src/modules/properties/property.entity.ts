import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';
import type { FieldType, PropertyOption } from './field-types';

/** A field of an entity; records hold their values in `data`, keyed by property ID. */
@Entity('properties')
export class PropertyEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'property_id', type: 'varchar', length: 32 })
  propertyId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'varchar', length: 63, nullable: true })
  key: string | null;

  @Column({ name: 'field_type', type: 'text' })
  fieldType: FieldType;

  @Column({ type: 'boolean' })
  required: boolean;

  @Column({ type: 'jsonb' })
  options: PropertyOption[];

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
