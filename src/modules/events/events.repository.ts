import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { EventEntity } from './event.entity';

/** An event to store; `occurredAt` null means the database's now. */
export type NewEvent = Omit<EventEntity, 'accountId' | 'dateCreated' | 'occurredAt'> & { occurredAt: Date | null };

interface EventRow {
  account_id: string;
  event_id: string;
  record_id: string;
  entity_id: string;
  event_type: string;
  category: string | null;
  label: string | null;
  value: string | null;
  properties: Record<string, unknown>;
  occurred_at: Date;
  event_key: string | null;
  date_created: Date;
}

const toEntity = (r: EventRow): EventEntity => ({
  accountId: r.account_id,
  eventId: r.event_id,
  recordId: r.record_id,
  entityId: r.entity_id,
  eventType: r.event_type,
  category: r.category,
  label: r.label,
  value: r.value,
  properties: r.properties,
  occurredAt: r.occurred_at,
  eventKey: r.event_key,
  dateCreated: r.date_created,
});

/** The event statements the account-scoped repository cannot express; each takes the account first. */
@Injectable()
export class EventsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * Every event in one statement (the summary trigger then runs once for the batch). An event whose
   * `eventKey` the account already has, or that an earlier event of the batch has, is skipped:
   * answers the events stored.
   */
  async insert(accountId: string, events: NewEvent[]): Promise<EventEntity[]> {
    const column = <K extends keyof NewEvent>(key: K) => events.map((e) => e[key]);
    const rows: EventRow[] = await this.txHost.tx.query(
      `INSERT INTO events (account_id, event_id, record_id, entity_id, event_type, category, label, value, properties, occurred_at, event_key)
       SELECT $1, u.event_id, u.record_id, u.entity_id, u.event_type, u.category, u.label, u.value, u.properties, coalesce(u.occurred_at, now()), u.event_key
         FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::numeric[], $9::jsonb[], $10::timestamptz[], $11::varchar[])
           AS u (event_id, record_id, entity_id, event_type, category, label, value, properties, occurred_at, event_key)
       ON CONFLICT (account_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        accountId,
        column('eventId'),
        column('recordId'),
        column('entityId'),
        column('eventType'),
        column('category'),
        column('label'),
        column('value'),
        events.map((e) => JSON.stringify(e.properties)),
        column('occurredAt'),
        column('eventKey'),
      ],
    );
    return rows.map(toEntity);
  }
}
