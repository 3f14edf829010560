import { Body, CanActivate, Controller, Delete, ExecutionContext, Get, HttpCode, Injectable, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Auth, type AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { Roles } from '../../common/auth/roles';
import { PageQueryDto } from '../../common/http/pagination';
import { IdParamPipe } from '../../common/ids/id-param.pipe';
import { ApiDoc } from '../../common/openapi/api-doc.decorator';
import { Quota } from '../../common/quota/quota.interceptor';
import { CreatedWebhookResponse, CreateWebhookDto, ListDeliveriesQueryDto, UpdateWebhookDto, WebhookDeliveryResponse, WebhookResponse } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

const WebhookId = () => Param('webhookId', new IdParamPipe('webhook'));
const DeliveryId = () => Param('deliveryId', new IdParamPipe('webhookDelivery'));

/**
 * Resolves a body's `url` and checks every address before the route's transaction opens (the
 * interceptors open it): a DNS lookup is a network call, and none runs inside a transaction.
 * A body without a string `url` is left to validation.
 */
@Injectable()
class WebhookUrlGuard implements CanActivate {
  constructor(private readonly webhooks: WebhooksService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const url = (context.switchToHttp().getRequest<Request>().body as { url?: unknown } | undefined)?.url;
    if (typeof url === 'string' && url.length <= 2048) await this.webhooks.checkDestination(url);
    return true;
  }
}

const REFUSED_URL = 'The `url` is not https, or its host is (or resolves to) a loopback, private, link-local or other non-public address, and is not listed in WEBHOOK_ALLOWED_HOSTS.';

@ApiTags('webhooks')
@Roles('VIEWER')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @ApiDoc('Create a webhook', {
    description:
      'Subscribes a URL to kinds of change; each change is then POSTed to it, signed the Standard Webhooks way, at least once (docs/webhooks.md). The answer holds the signing `secret`, shown this once.',
    quota: 'webhooks.max',
    created: CreatedWebhookResponse,
    errors: { 400: REFUSED_URL, 404: 'An entity of `entityIds` is not in the account.' },
  })
  @Post()
  @Roles('DEVELOPER')
  @UseGuards(WebhookUrlGuard)
  @Quota('webhooks.max')
  create(@Auth() caller: AuthenticatedCaller, @Body() dto: CreateWebhookDto) {
    return this.webhooks.create(caller.accountId, caller.memberId, dto);
  }

  @ApiDoc('List webhooks', { description: 'The account’s webhooks, oldest first; never a secret.', page: WebhookResponse })
  @Get()
  list(@Auth() caller: AuthenticatedCaller, @Query() page: PageQueryDto) {
    return this.webhooks.list(caller.accountId, page);
  }

  @ApiDoc('Get a webhook', { description: 'Its fields and whether it is active; never its secret.', ok: WebhookResponse })
  @Get(':webhookId')
  get(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string) {
    return this.webhooks.get(caller.accountId, webhookId);
  }

  @ApiDoc('Update a webhook', {
    description: 'Any field. `isActive: false` stops it: deliveries waiting are cancelled; `true` sends again, from the next change on. A new `url` is checked as at creation.',
    ok: WebhookResponse,
    errors: { 400: REFUSED_URL, 404: 'No such webhook, or an entity of `entityIds` is not in the account.' },
  })
  @Patch(':webhookId')
  @Roles('DEVELOPER')
  @UseGuards(WebhookUrlGuard)
  update(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string, @Body() dto: UpdateWebhookDto) {
    return this.webhooks.update(caller.accountId, webhookId, dto);
  }

  @ApiDoc('Delete a webhook', { description: 'Nothing more is sent: its waiting deliveries are cancelled, and all of them purged 30 days after they ended. Frees its unit of `webhooks.max`.', ok: WebhookResponse })
  @Delete(':webhookId')
  @Roles('DEVELOPER')
  delete(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string) {
    return this.webhooks.delete(caller.accountId, webhookId);
  }

  @ApiDoc('Send a test delivery', {
    description: 'A `webhook.test` event, `{ "message": … }` as its `data`, queued and sent like any delivery: follow it in the deliveries list.',
    created: WebhookDeliveryResponse,
    errors: { 409: 'The webhook is disabled (`isActive: false`).' },
  })
  @Post(':webhookId/test')
  @Roles('DEVELOPER')
  test(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string) {
    return this.webhooks.test(caller.accountId, webhookId);
  }

  @ApiDoc('List a webhook’s deliveries', { description: 'Newest first, one per event sent to the webhook, with where each stands.', page: WebhookDeliveryResponse })
  @Get(':webhookId/deliveries')
  deliveries(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string, @Query() query: ListDeliveriesQueryDto) {
    return this.webhooks.listDeliveries(caller.accountId, webhookId, query);
  }

  @ApiDoc('Send a delivery again', {
    description: 'Under the same `webhook-id` and body (a receiver that keeps the IDs it has seen can drop it), due now, with a new 24 hours of retries whose backoff starts over, whatever its status.',
    ok: WebhookDeliveryResponse,
    errors: { 404: 'No such webhook, or no such delivery of it.', 409: 'The webhook is disabled (`isActive: false`), or a worker is sending this delivery right now (try again in a moment).' },
  })
  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @Roles('DEVELOPER')
  @HttpCode(200)
  redeliver(@Auth() caller: AuthenticatedCaller, @WebhookId() webhookId: string, @DeliveryId() deliveryId: string) {
    return this.webhooks.redeliver(caller.accountId, webhookId, deliveryId);
  }
}
