import { ApiProperty } from '@nestjs/swagger';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';

export const HISTORY_ACTIONS = ['CREATED', 'UPDATED', 'DELETED', 'RESTORED', 'RELATIONSHIP_ADDED', 'RELATIONSHIP_REMOVED'] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

/** The change stream's kinds that a record's history shows, and how it names them. */
export const ACTION_OF_KIND: Record<string, HistoryAction> = {
  'record.created': 'CREATED',
  'record.updated': 'UPDATED',
  'record.deleted': 'DELETED',
  'record.restored': 'RESTORED',
  'relationship.created': 'RELATIONSHIP_ADDED',
  'relationship.deleted': 'RELATIONSHIP_REMOVED',
};

export interface ChangeRow {
  change_id: string;
  kind: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  member_id: string | null;
  api_key: string | null;
  request_id: string | null;
  date_created: Date;
}

export class HistoryEntryResponse {
  @ApiProperty({ enum: HISTORY_ACTIONS, example: 'UPDATED' })
  action: HistoryAction;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', properties: { from: {}, to: {} } },
    description:
      'Each changed field with its value before and after: `name`, `tags` and `data.<propertyId>`; `null` for a value that was not there. CREATED gives the first values (from `null`); DELETED and RESTORED give none; RELATIONSHIP_ADDED and RELATIONSHIP_REMOVED give `relationship` (`relationshipId`, `relationshipTypeId`, `sourceRecordId`, `targetRecordId`).',
    example: { 'data.CRMPP1260423091530123GRADE0001': { from: 'B', to: 'A' }, name: { from: '홍길동', to: '홍길순' } },
  })
  changes: Record<string, { from: unknown; to: unknown }>;

  @ApiIdProperty('member', 'The member whose API key made the change; null for a change made outside the API (the admin CLI).', { nullable: true })
  memberId: string | null;

  @ApiProperty({ nullable: true, example: 'AK1A2B3C4D5E6F7G', description: 'The API key that signed the request.' })
  apiKey: string | null;

  @ApiProperty({ nullable: true, example: '6f1c2a8e-7d2b-4c1e-9a55-0c2f8a1d9b3e', description: 'The `X-Request-Id` of the request.' })
  requestId: string | null;

  @ApiProperty({ example: '2026-12-02T09:15:30.123Z', description: 'When the transaction that made the change began (ISO 8601 UTC).' })
  dateCreated: string;

  static from(row: ChangeRow): HistoryEntryResponse {
    return {
      action: ACTION_OF_KIND[row.kind],
      changes: row.changes,
      memberId: row.member_id,
      apiKey: row.api_key,
      requestId: row.request_id,
      dateCreated: row.date_created.toISOString(),
    };
  }
}
