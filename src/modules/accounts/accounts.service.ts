import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import type { Role } from '../../common/auth/roles';
import { generateId } from '../../common/ids/ids';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { MembersService } from '../members/members.service';
import type { LimitName, Tier } from '../../common/quota/limits';
import { AccountEntity } from './account.entity';

export interface IssuedCredentials {
  apiKey: string;
  apiSecret: string;
  memberId: string;
  role: Role;
  accountId: string;
}

/** Any fixed number: serialises the first-start creation of the default account across instances. */
const DEFAULT_ACCOUNT_LOCK = '7231004512018';

/** Operator-level account management: the admin CLI and the first start use it, never a tenant route. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectRepository(AccountEntity) private readonly accounts: Repository<AccountEntity>,
    private readonly apiKeys: ApiKeysService,
    private readonly members: MembersService,
  ) {}

  private get tx() {
    return this.txHost.tx;
  }

  async create(name: string, tier: Tier = 'FREE'): Promise<{ accountId: string; name: string; tier: Tier }> {
    const accountId = generateId('account');
    await this.tx.getRepository(AccountEntity).insert({ accountId, name, tier, status: 'ACTIVE' });
    return { accountId, name, tier };
  }

  async exists(accountId: string): Promise<boolean> {
    return this.accounts.exists({ where: { accountId } });
  }

  /** Answers false when the account does not exist. */
  async setPlan(accountId: string, tier: Tier): Promise<boolean> {
    const result = await this.tx.getRepository(AccountEntity).update({ accountId }, { tier });
    return (result.affected ?? 0) > 0;
  }

  /** Overrides one limit of the account's plan: a number, or null for unlimited. */
  async setLimit(accountId: string, limitName: LimitName, value: number | null): Promise<void> {
    await this.tx.query(
      `INSERT INTO account_limit_overrides (account_id, limit_name, value) VALUES ($1, $2, $3)
       ON CONFLICT (account_id, limit_name) DO UPDATE SET value = EXCLUDED.value, date_updated = now()`,
      [accountId, limitName, value],
    );
  }

  /** Removes an override: the plan's value holds again. */
  async clearLimit(accountId: string, limitName: LimitName): Promise<void> {
    await this.tx.query(`DELETE FROM account_limit_overrides WHERE account_id = $1 AND limit_name = $2`, [accountId, limitName]);
  }

  /** A new member with the role, and an API key for it. */
  createMemberWithKey(accountId: string, role: Role, name: string | null = null): Promise<IssuedCredentials> {
    return this.txHost.withTransaction(async () => {
      const memberId = await this.members.create(accountId, role, name);
      const key = await this.apiKeys.issue(accountId, memberId, role, name);
      return { apiKey: key.apiKey, apiSecret: key.apiSecret, memberId, role, accountId };
    });
  }

  /**
   * On an empty database, creates a default account with an OWNER key and answers its
   * credentials; answers undefined when any account exists. Safe when instances start together.
   */
  ensureDefaultAccount(): Promise<IssuedCredentials | undefined> {
    return this.txHost.withTransaction(async () => {
      await this.tx.query('SELECT pg_advisory_xact_lock($1)', [DEFAULT_ACCOUNT_LOCK]);
      if (await this.tx.getRepository(AccountEntity).exists({})) return undefined;
      const { accountId } = await this.create('Default account');
      return this.createMemberWithKey(accountId, 'OWNER', 'Default owner');
    });
  }
}
