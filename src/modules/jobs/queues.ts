/** The queues of the product's background work; each is created by a migration (JobQueueAndExports, CreateImports, CreateIdempotencyKeys, CreateWebhooks). */
export const QUEUES = {
  /** An export of more than 10,000 records. */
  recordsExport: 'records-export',
  /** An export's file, deleted when its download link expires. */
  recordsExportExpire: 'records-export-expire',
  /** An import of a CSV or .xlsx file. */
  recordsImport: 'records-import',
  /** Expired idempotency keys, deleted in small batches every ten minutes (one job waits at a time: a stately queue). */
  idempotencyKeysPurge: 'idempotency-keys-purge',
  /** A webhook worker's turn: it sends the deliveries that are due for a few seconds, and plans the next turn (one waits at a time: a short queue). */
  webhookDeliveries: 'webhook-deliveries',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
