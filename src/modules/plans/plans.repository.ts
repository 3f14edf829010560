import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { LimitName, Tier } from '../../common/quota/limits';

export interface EffectiveLimit {
  tier: Tier;
  limitName: LimitName;
  /** null = unlimited. */
  value: number | null;
  overridden: boolean;
}

@Injectable()
export class PlansRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * The account's limits from the view `effective_limits` (migration EffectiveLimits), the one
   * place where an override wins over the plan's value; the quota trigger enforces the same view.
   */
  async effectiveLimits(accountId: string): Promise<EffectiveLimit[]> {
    const rows: { tier: Tier; limit_name: LimitName; value: string | null; overridden: boolean }[] = await this.txHost.tx.query(
      `SELECT tier, limit_name, value, overridden FROM effective_limits WHERE account_id = $1`,
      [accountId],
    );
    return rows.map((r) => ({ tier: r.tier, limitName: r.limit_name, value: r.value === null ? null : Number(r.value), overridden: r.overridden }));
  }
}
