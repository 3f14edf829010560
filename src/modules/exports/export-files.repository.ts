import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';

/** The bytes of a stored chunk at most: a file is written and read one chunk at a time. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Export files in PostgreSQL (`export_files`), so that every instance serves every file. A job's
 * file is written on connections of its own, outside the export's read transaction (a REPEATABLE
 * READ snapshot cannot write, and a chunk must be there whatever becomes of the read); a sync
 * export's, with its job. A store of S3's kind would keep the same four methods.
 */
@Injectable()
export class ExportFilesRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  /** A whole file held in memory (a sync export's), stored in the caller's transaction, with its job. */
  async store(accountId: string, jobId: string, bytes: Buffer): Promise<void> {
    for (let chunk = 0; chunk === 0 || chunk * CHUNK_BYTES < bytes.length; chunk++) {
      const part = bytes.subarray(chunk * CHUNK_BYTES, (chunk + 1) * CHUNK_BYTES);
      await this.txHost.tx.query(`INSERT INTO export_files (account_id, job_id, chunk, bytes) VALUES ($1, $2, $3, $4)`, [accountId, jobId, chunk, part]);
    }
  }

  /** A stream that stores what is written to it, chunk by chunk; `bytes()` says how many when it has finished. */
  writer(accountId: string, jobId: string): Writable & { bytes: () => number } {
    const dataSource = this.dataSource;
    let buffered: Buffer[] = [];
    let size = 0;
    let chunk = 0;
    let total = 0;
    const flush = async () => {
      if (size === 0) return;
      const bytes = Buffer.concat(buffered, size);
      buffered = [];
      size = 0;
      await dataSource.query(`INSERT INTO export_files (account_id, job_id, chunk, bytes) VALUES ($1, $2, $3, $4)`, [accountId, jobId, chunk++, bytes]);
    };
    const stream = new Writable({
      write(data: Buffer, _encoding, done) {
        buffered.push(data);
        size += data.length;
        total += data.length;
        if (size < CHUNK_BYTES) return done();
        flush().then(() => done(), done);
      },
      final(done) {
        flush().then(() => done(), done);
      },
    });
    return Object.assign(stream, { bytes: () => total });
  }

  /** The file's chunks in order, read one at a time. */
  async *chunks(accountId: string, jobId: string): AsyncGenerator<Buffer> {
    for (let chunk = 0; ; chunk++) {
      const [row]: { bytes: Buffer }[] = await this.dataSource.query(`SELECT bytes FROM export_files WHERE account_id = $1 AND job_id = $2 AND chunk = $3`, [accountId, jobId, chunk]);
      if (!row) return;
      yield row.bytes;
    }
  }

  async remove(accountId: string, jobId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM export_files WHERE account_id = $1 AND job_id = $2`, [accountId, jobId]);
  }
}
