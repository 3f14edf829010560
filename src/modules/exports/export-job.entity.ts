import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateCreatedColumn, DateUpdatedColumn, NullableDateColumn } from '../../common/persistence/columns';

export const EXPORT_FORMATS = ['csv', 'excel'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';

/** What an export reads: the search of SPEC §8 and the columns. */
export interface ExportQuery {
  keyword?: string;
  filters?: object;
  conditionGroup?: object;
  segmentId?: string;
  propertyIds?: string[];
}

/** One export: its question, its state while it runs, and when its file goes. */
@Entity('export_jobs')
export class ExportJobEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 32 })
  accountId: string;

  @PrimaryColumn({ name: 'job_id', type: 'varchar', length: 32 })
  jobId: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 32 })
  entityId: string;

  @Column({ type: 'varchar', length: 8 })
  format: ExportFormat;

  @Column({ type: 'jsonb' })
  query: ExportQuery;

  @Column({ type: 'varchar', length: 16 })
  status: ExportStatus;

  @Column({ type: 'integer' })
  processed: number;

  @Column({ type: 'integer' })
  total: number;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @NullableDateColumn('expires_at')
  expiresAt: Date | null;

  @Column({ name: 'file_bytes', type: 'bigint', nullable: true })
  fileBytes: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 32 })
  createdBy: string;

  @DateCreatedColumn()
  dateCreated: Date;

  @DateUpdatedColumn()
  dateUpdated: Date;
}
