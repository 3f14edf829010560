import { Column, CreateDateColumn, UpdateDateColumn } from 'typeorm';

// Millisecond precision everywhere: a JavaScript Date then round-trips exactly, which keyset
// cursors over timestamps rely on.

/** `date_created`, set by the database on insert. */
export const DateCreatedColumn = () => CreateDateColumn({ name: 'date_created', type: 'timestamptz', precision: 3 });
/** `date_updated`, set on insert and by TypeORM on every update through the repository. */
export const DateUpdatedColumn = () => UpdateDateColumn({ name: 'date_updated', type: 'timestamptz', precision: 3 });
/** A nullable timestamp such as `date_revoked` or `deleted_at`. */
export const NullableDateColumn = (name: string) => Column({ name, type: 'timestamptz', precision: 3, nullable: true });
