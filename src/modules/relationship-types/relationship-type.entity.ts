import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';
import type { Cardinality } from './cardinality';

/** A kind of link from records of one entity to records of another (or the same). */
@Entity('relationship_types')
export class RelationshipTypeEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'relationship_type_id', type: 'varchar', length: 32 })
  relationshipTypeId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'source_entity_id', type: 'varchar', length: 32 })
  sourceEntityId: string;

  @Column({ name: 'target_entity_id', type: 'varchar', length: 32 })
  targetEntityId: string;

  @Column({ name: 'source_label', type: 'text', nullable: true })
  sourceLabel: string | null;

  @Column({ name: 'target_label', type: 'text', nullable: true })
  targetLabel: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'text' })
  cardinality: Cardinality;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
