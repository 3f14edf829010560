import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { roleAtLeast, type Role } from '../../common/auth/roles';
import { SecretBox } from '../../common/auth/secret-box';
import { errors } from '../../common/errors/app.exception';
import { paginate, type Page, type PageQueryDto } from '../../common/http/pagination';
import { randomUpperAlnum } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { MembersService } from '../members/members.service';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyResponse, CreatedApiKeyResponse } from './dto/api-key.response';
import type { CreateApiKeyDto } from './dto/create-api-key.dto';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(ApiKeyEntity) private readonly keys: AccountScopedRepository<ApiKeyEntity>,
    private readonly secrets: SecretBox,
    private readonly members: MembersService,
  ) {}

  /** A key for the calling member, with a role at most the caller's. */
  create(caller: AuthenticatedCaller, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const role = dto.role ?? caller.role;
    if (!roleAtLeast(caller.role, role)) throw errors.forbidden();
    return this.issue(caller.accountId, caller.memberId, role, dto.name ?? null);
  }

  /** Creates a key and answers its secret, the one time it is ever visible. */
  async issue(accountId: string, memberId: string, role: Role, name: string | null): Promise<CreatedApiKeyResponse> {
    const apiKey = `NCS${randomUpperAlnum(13)}`;
    const apiSecret = randomUpperAlnum(32);
    await this.keys.insert(accountId, { apiKey, memberId, role, name, secretEncrypted: this.secrets.seal(apiSecret, apiKey) });
    const stored = await this.keys.findOne(accountId, { apiKey });
    return { apiKey, apiSecret, role, name, memberId, dateCreated: stored!.dateCreated.toISOString() };
  }

  async list(accountId: string, page: PageQueryDto): Promise<Page<ApiKeyResponse>> {
    return paginate(this.keys.query(accountId, 'k'), page, {
      columns: ['k.dateCreated', 'k.apiKey'],
      casts: ['timestamptz', undefined],
      direction: 'ASC',
      cursorOf: (k) => [k.dateCreated.toISOString(), k.apiKey],
    }, ApiKeyResponse.from);
  }

  /**
   * Revokes a key of the caller's account; its signatures fail from the next request on. The keys
   * of the caller's own member can always be revoked; another member's only with a role at least
   * that member's (a key's role never exceeds its member's, so a weaker caller cannot cut off a
   * stronger member through one of its lower-role keys). Revoking twice answers the same.
   */
  revoke(caller: AuthenticatedCaller, apiKey: string): Promise<ApiKeyResponse> {
    return this.txHost.withTransaction(async () => {
      const key = await this.keys.query(caller.accountId, 'k').andWhere('k.apiKey = :apiKey', { apiKey }).setLock('pessimistic_write').getOne();
      if (!key) throw errors.notFound('API 키를 찾을 수 없습니다.');
      if (key.memberId !== caller.memberId) {
        const memberRole = await this.members.lockedRole(caller.accountId, key.memberId);
        if (!memberRole || !roleAtLeast(caller.role, memberRole)) throw errors.forbidden();
      }
      if (!key.dateRevoked) {
        await this.keys.update(caller.accountId, { apiKey }, { dateRevoked: () => 'now()' });
        return ApiKeyResponse.from((await this.keys.findOne(caller.accountId, { apiKey }))!);
      }
      return ApiKeyResponse.from(key);
    });
  }

  /** For the admin CLI: revokes a key of any account. */
  async revokeAnywhere(apiKey: string): Promise<{ apiKey: string; accountId: string; dateRevoked: string } | undefined> {
    // TypeORM answers an UPDATE as [rows, affected].
    const [rows]: [{ account_id: string; date_revoked: Date }[], number] = await this.keys.unscoped.query(
      `UPDATE api_keys SET date_revoked = COALESCE(date_revoked, now()) WHERE api_key = $1 RETURNING account_id, date_revoked`,
      [apiKey],
    );
    const row = rows[0];
    return row && { apiKey, accountId: row.account_id, dateRevoked: row.date_revoked.toISOString() };
  }
}
