import { Inject, Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../common/auth/secret-box';
import { errors } from '../../common/errors/app.exception';
import { paginate, type Page, type PageQueryDto } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EntitiesService } from '../entities/entities.service';
import { checkUrl, DestinationRefused, parseAllowedHosts, resolveDestination, type AllowedHosts } from './destination';
import { CreatedWebhookResponse, CreateWebhookDto, ListDeliveriesQueryDto, TEST_EVENT, UpdateWebhookDto, WebhookDeliveryResponse, WebhookResponse } from './dto/webhook.dto';
import { secretBinding } from './webhook-dispatcher';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookEntity } from './webhook.entity';

registerUsageCount('webhooks.max', `SELECT '' AS scope_id, count(*) AS n FROM webhooks WHERE account_id = $1`);

const NOT_FOUND = '웹훅을 찾을 수 없습니다.';
const DELIVERY_NOT_FOUND = '웹훅 전송 기록을 찾을 수 없습니다.';

/** Webhooks (SPEC §14): subscriptions, their secrets, and what became of their deliveries. Sending is WebhookDispatcher's. */
@Injectable()
export class WebhooksService {
  private readonly allowedHosts: AllowedHosts;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(WebhookEntity) private readonly webhooks: AccountScopedRepository<WebhookEntity>,
    @InjectScopedRepository(WebhookDeliveryEntity) private readonly deliveries: AccountScopedRepository<WebhookDeliveryEntity>,
    private readonly entities: EntitiesService,
    private readonly secrets: SecretBox,
    private readonly quota: QuotaService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.allowedHosts = parseAllowedHosts(config.webhookAllowedHosts);
  }

  /**
   * 400 unless `url` may receive deliveries: its form, then every address its name resolves to. A
   * DNS lookup is a network call, so it runs before the request's transaction opens (WebhookUrlGuard).
   */
  async checkDestination(url: string): Promise<void> {
    try {
      await resolveDestination(checkUrl(url, this.allowedHosts));
    } catch (error) {
      if (error instanceof DestinationRefused) throw errors.validation(error.message);
      throw error;
    }
  }

  async create(accountId: string, memberId: string, dto: CreateWebhookDto): Promise<CreatedWebhookResponse> {
    // The form again (the guard resolved the name): a url the guard could not read is decided here.
    this.checkForm(dto.url);
    if (dto.entityIds) await this.entities.assertExist(accountId, dto.entityIds);
    const webhookId = generateId('webhook');
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    await this.webhooks.insert(accountId, {
      webhookId,
      url: dto.url,
      events: dto.events,
      entityIds: dto.entityIds ?? null,
      description: dto.description ?? null,
      isActive: true,
      secretEncrypted: this.secrets.seal(secret, secretBinding(accountId, webhookId)),
      createdBy: memberId,
    });
    return { ...(await this.get(accountId, webhookId)), secret };
  }

  list(accountId: string, page: PageQueryDto): Promise<Page<WebhookResponse>> {
    return paginate(
      this.webhooks.query(accountId, 'w'),
      page,
      { columns: ['w.dateCreated', 'w.webhookId'], direction: 'ASC', casts: ['timestamptz'], cursorOf: (w) => [w.dateCreated.toISOString(), w.webhookId] },
      WebhookResponse.from,
    );
  }

  async get(accountId: string, webhookId: string): Promise<WebhookResponse> {
    return WebhookResponse.from(await this.load(accountId, webhookId));
  }

  update(accountId: string, webhookId: string, dto: UpdateWebhookDto): Promise<WebhookResponse> {
    return this.txHost.withTransaction(async () => {
      const webhook = await this.load(accountId, webhookId, true);
      if (dto.url !== undefined) this.checkForm(dto.url);
      if (dto.entityIds) await this.entities.assertExist(accountId, dto.entityIds);
      const patch: Partial<WebhookEntity> = {};
      if (dto.url !== undefined) patch.url = dto.url;
      if (dto.events !== undefined) patch.events = dto.events;
      if (dto.entityIds !== undefined) patch.entityIds = dto.entityIds;
      if (dto.description !== undefined) patch.description = dto.description;
      if (dto.isActive !== undefined) patch.isActive = dto.isActive;
      if (Object.keys(patch).length > 0) await this.webhooks.update(accountId, { webhookId }, patch);
      // Stopped by its owner: what waits is cancelled now (a delivery written meanwhile is cancelled when a worker takes it).
      if (webhook.isActive && dto.isActive === false) {
        await this.deliveries.update(accountId, { webhookId, status: 'PENDING' }, { status: 'CANCELLED', nextAttemptAt: null });
      }
      return this.get(accountId, webhookId);
    });
  }

  /**
   * Frees its unit of `webhooks.max`. Its deliveries are not deleted here (there may be millions):
   * those waiting are cancelled by the worker that takes them, and all are purged once ended for 30 days.
   */
  delete(accountId: string, webhookId: string): Promise<WebhookResponse> {
    return this.txHost.withTransaction(async () => {
      const webhook = await this.load(accountId, webhookId);
      if ((await this.webhooks.delete(accountId, { webhookId })) === 0) throw errors.notFound(NOT_FOUND);
      await this.quota.release(accountId, 'webhooks.max', '', 1);
      return WebhookResponse.from(webhook);
    });
  }

  /** A `webhook.test` delivery, sent like any other. */
  async test(accountId: string, webhookId: string): Promise<WebhookDeliveryResponse> {
    return this.txHost.withTransaction(async () => {
      const webhook = await this.load(accountId, webhookId, true);
      if (!webhook.isActive) throw errors.conflict('꺼진 웹훅으로는 보낼 수 없습니다. 먼저 isActive를 true로 바꾸세요.');
      const [{ delivery_id: deliveryId }]: { delivery_id: string }[] = await this.deliveries.unscoped.query(
        `INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, data, next_attempt_at)
         VALUES ($1, $2, $3, $4, now()) RETURNING delivery_id`,
        [accountId, webhookId, TEST_EVENT, JSON.stringify({ message: 'A test delivery of POST /webhooks/{webhookId}/test.' })],
      );
      return this.delivery(accountId, webhookId, deliveryId);
    });
  }

  async listDeliveries(accountId: string, webhookId: string, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryResponse>> {
    await this.load(accountId, webhookId);
    const qb = this.deliveries.query(accountId, 'd').andWhere('d.webhookId = :webhookId', { webhookId });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    return paginate(qb, query, { columns: ['d.deliveryId'], direction: 'DESC', cursorOf: (d) => [d.deliveryId] }, WebhookDeliveryResponse.from);
  }

  /**
   * Sends a delivery again, under the same `webhook-id`, with a new 24 hours of retries whose backoff
   * starts over: it is PENDING and due now. 409 while a worker is sending it (its outcome would
   * overwrite this).
   */
  redeliver(accountId: string, webhookId: string, deliveryId: string): Promise<WebhookDeliveryResponse> {
    return this.txHost.withTransaction(async () => {
      const webhook = await this.load(accountId, webhookId, true);
      if (!webhook.isActive) throw errors.conflict('꺼진 웹훅으로는 보낼 수 없습니다. 먼저 isActive를 true로 바꾸세요.');
      const [, updated]: [unknown, number] = await this.deliveries.unscoped.query(
        `UPDATE webhook_deliveries
            SET status = 'PENDING', next_attempt_at = now(), retry_from = now(), attempts_before_retry_from = attempts, date_updated = now()
          WHERE account_id = $1 AND webhook_id = $2 AND delivery_id = $3 AND lease_id IS NULL`,
        [accountId, webhookId, deliveryId],
      );
      if (updated === 0) {
        await this.delivery(accountId, webhookId, deliveryId);
        throw errors.conflictRetryable('이 전송은 지금 보내는 중입니다. 잠시 후 다시 시도하세요.');
      }
      return this.delivery(accountId, webhookId, deliveryId);
    });
  }

  private async delivery(accountId: string, webhookId: string, deliveryId: string): Promise<WebhookDeliveryResponse> {
    const delivery = await this.deliveries.findOne(accountId, { webhookId, deliveryId });
    if (!delivery) throw errors.notFound(DELIVERY_NOT_FOUND);
    return WebhookDeliveryResponse.from(delivery);
  }

  private checkForm(url: string): void {
    try {
      checkUrl(url, this.allowedHosts);
    } catch (error) {
      if (error instanceof DestinationRefused) throw errors.validation(error.message);
      throw error;
    }
  }

  /** The webhook, or 404; locked for the rest of the transaction when `forUpdate`. */
  private async load(accountId: string, webhookId: string, forUpdate = false): Promise<WebhookEntity> {
    const qb = this.webhooks.query(accountId, 'w').andWhere('w.webhookId = :webhookId', { webhookId });
    if (forUpdate) qb.setLock('pessimistic_write');
    const webhook = await qb.getOne();
    if (!webhook) throw errors.notFound(NOT_FOUND);
    return webhook;
  }
}
