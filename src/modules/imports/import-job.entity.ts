import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn } from '../../common/persistence/columns';
import type { ImportRowError } from '../records/records.service';

export type ImportFormat = 'csv' | 'excel';
export type ImportStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
export const IMPORT_MODES = ['CREATE', 'UPSERT'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

/** One import: what to do with the file, and what it did. */
@Entity('import_jobs')
export class ImportJobEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'job_id', type: 'varchar', length: 32 })
  jobId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ type: 'varchar', length: 8 })
  format: ImportFormat;

  /** Column header → `name`, `tags` or a property ID. */
  @Column({ name: 'column_mappings', type: 'jsonb' })
  columnMappings: Record<string, string>;

  @Column({ type: 'varchar', length: 8 })
  mode: ImportMode;

  @Column({ name: 'match_by', type: 'varchar', length: 32, nullable: true })
  matchBy: string | null;

  @Column({ name: 'dry_run', type: 'boolean' })
  dryRun: boolean;

  @Column({ type: 'varchar', length: 16 })
  status: ImportStatus;

  @Column({ type: 'integer' })
  total: number;

  @Column({ type: 'integer' })
  processed: number;

  @Column({ type: 'integer' })
  created: number;

  @Column({ type: 'integer' })
  updated: number;

  @Column({ type: 'integer' })
  failed: number;

  @Column({ type: 'jsonb' })
  errors: ImportRowError[];

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 32 })
  createdBy: string;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
