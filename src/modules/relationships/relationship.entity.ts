import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';

/** A link between two records, stored in the direction its type defines. */
@Entity('relationships')
export class RelationshipEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'relationship_id', type: 'varchar', length: 32 })
  relationshipId: string;

  @Column({ name: 'relationship_type_id', type: 'varchar', length: 32 })
  relationshipTypeId: string;

  @Column({ name: 'source_entity_id', type: 'varchar', length: 32 })
  sourceEntityId: string;

  @Column({ name: 'source_record_id', type: 'varchar', length: 32 })
  sourceRecordId: string;

  @Column({ name: 'target_entity_id', type: 'varchar', length: 32 })
  targetEntityId: string;

  @Column({ name: 'target_record_id', type: 'varchar', length: 32 })
  targetRecordId: string;

  @Column({ type: 'jsonb' })
  metadata: Record<string, any>;

  /** Copies of the type's cardinality, enforced by partial unique indexes. */
  @Column({ name: 'source_exclusive', type: 'boolean' })
  sourceExclusive: boolean;

  @Column({ name: 'target_exclusive', type: 'boolean' })
  targetExclusive: boolean;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
