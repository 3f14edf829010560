import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../common/http/optional.decorator';
import { PageQueryDto } from '../../../common/http/pagination';
import { IsCrmId } from '../../../common/ids/is-crm-id.decorator';
import { ApiIdProperty } from '../../../common/openapi/api-id-property.decorator';
import { DELIVERY_STATUSES, type DeliveryStatus, type WebhookDeliveryEntity } from '../webhook-delivery.entity';
import type { WebhookEntity } from '../webhook.entity';

/** The kinds of change a webhook may subscribe to (SPEC §14). */
export const WEBHOOK_EVENTS = [
  'record.created',
  'record.updated',
  'record.deleted',
  'record.restored',
  'relationship.created',
  'relationship.updated',
  'relationship.deleted',
  'activity.created',
  'event.created',
] as const;
/** The event type of a delivery made by `POST /webhooks/{webhookId}/test`. */
export const TEST_EVENT = 'webhook.test';
const ENTITY_IDS_MAX = 100;

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: 2048,
    description: 'Where deliveries are POSTed: `https`, at a public address (plain `http`, and loopback, private or link-local addresses, only for a host listed in the server’s WEBHOOK_ALLOWED_HOSTS). Checked again at each delivery.',
    example: 'https://hooks.example.com/crm',
  })
  @IsString() @MaxLength(2048)
  url: string;

  @ApiProperty({ type: [String], enum: WEBHOOK_EVENTS, minItems: 1, uniqueItems: true, description: 'The kinds of change to send.', example: ['record.created', 'relationship.created'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENTS.length) @ArrayUnique() @IsIn(WEBHOOK_EVENTS, { each: true })
  events: string[];

  @ApiIdProperty('entity', `Only changes of these entities’ records and relationships (a relationship by either end), activities and events (at most ${ENTITY_IDS_MAX}); absent or null for all.`, {
    isArray: true,
    maxItems: ENTITY_IDS_MAX,
    required: false,
    nullable: true,
  })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ENTITY_IDS_MAX) @ArrayUnique() @IsCrmId('entity', { each: true })
  entityIds?: string[] | null;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'Welcome messages' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;
}

/** Any field; `isActive: false` stops sending (waiting deliveries are cancelled), `true` sends again from the next change. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2048, example: 'https://hooks.example.com/crm-v2' })
  @IsOptionalNotNull() @IsString() @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: WEBHOOK_EVENTS, minItems: 1, uniqueItems: true, example: ['record.updated'] })
  @IsOptionalNotNull() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENTS.length) @ArrayUnique() @IsIn(WEBHOOK_EVENTS, { each: true })
  events?: string[];

  @ApiIdProperty('entity', 'Replaces the entity filter; null for all entities.', { isArray: true, maxItems: ENTITY_IDS_MAX, required: false, nullable: true })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ENTITY_IDS_MAX) @ArrayUnique() @IsCrmId('entity', { each: true })
  entityIds?: string[] | null;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true, example: 'Welcome messages, v2' })
  @IsOptional() @IsString() @MaxLength(1000)
  description?: string | null;

  @ApiPropertyOptional({ example: true })
  @IsOptionalNotNull() @IsBoolean()
  isActive?: boolean;
}

export class WebhookResponse {
  @ApiIdProperty('webhook', 'The webhook; every delivery carries it.')
  webhookId: string;
  @ApiIdProperty('account', 'The account it belongs to.')
  accountId: string;
  @ApiProperty({ example: 'https://hooks.example.com/crm' })
  url: string;
  @ApiProperty({ type: [String], enum: WEBHOOK_EVENTS, example: ['record.created', 'relationship.created'] })
  events: string[];
  @ApiIdProperty('entity', 'The entity filter; null for all.', { isArray: true, nullable: true })
  entityIds: string[] | null;
  @ApiProperty({ nullable: true, type: String, example: 'Welcome messages' })
  description: string | null;
  @ApiProperty({ description: 'False once disabled by its owner or by a receiver’s 410.', example: true })
  isActive: boolean;
  @ApiIdProperty('member', 'The member who created it.')
  createdBy: string;
  @ApiProperty({ example: '2026-12-03T09:00:00.000Z' })
  dateCreated: string;
  @ApiProperty({ example: '2026-12-03T09:00:00.000Z' })
  dateUpdated: string;

  static from(w: WebhookEntity): WebhookResponse {
    return {
      webhookId: w.webhookId,
      accountId: w.accountId,
      url: w.url,
      events: w.events,
      entityIds: w.entityIds,
      description: w.description,
      isActive: w.isActive,
      createdBy: w.createdBy,
      dateCreated: w.dateCreated.toISOString(),
      dateUpdated: w.dateUpdated.toISOString(),
    };
  }
}

export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    description: 'The signing secret (Standard Webhooks, `whsec_` + base64), in this answer only: store it now. Verify each delivery with it (docs/webhooks.md).',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, description: 'Only deliveries in this state.' })
  @IsOptional() @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class WebhookDeliveryResponse {
  @ApiIdProperty('webhookDelivery', 'The delivery; also its `webhook-id` header, the same for every attempt.')
  deliveryId: string;
  @ApiIdProperty('webhook', 'Its webhook.')
  webhookId: string;
  @ApiProperty({ example: 'record.created', description: `One of the webhook events, or \`${TEST_EVENT}\`.` })
  eventType: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: 'PENDING until a 2xx (DELIVERED), a 410 or the end of its 24 hours of retries (FAILED), or its webhook disabled (CANCELLED).', example: 'DELIVERED' })
  status: DeliveryStatus;
  @ApiProperty({ description: 'Attempts made so far.', example: 1 })
  attempts: number;
  @ApiProperty({ nullable: true, type: Number, description: 'The receiver’s status at the last attempt; null when none came.', example: 200 })
  responseStatus: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last attempt got no answer (refused address, timeout, connection error).', example: null })
  lastError: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When PENDING: the next attempt, at the latest.', example: null })
  nextAttemptAt: string | null;
  @ApiProperty({ description: 'When the change happened.', example: '2026-12-03T09:00:00.000Z' })
  dateCreated: string;
  @ApiProperty({ example: '2026-12-03T09:00:00.120Z' })
  dateUpdated: string;

  static from(d: WebhookDeliveryEntity): WebhookDeliveryResponse {
    return {
      deliveryId: d.deliveryId,
      webhookId: d.webhookId,
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      responseStatus: d.responseStatus,
      lastError: d.lastError,
      nextAttemptAt: d.status === 'PENDING' && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
      dateCreated: d.dateCreated.toISOString(),
      dateUpdated: d.dateUpdated.toISOString(),
    };
  }
}
