import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { LIMIT_NAMES, type LimitName, type Tier } from '../../common/quota/limits';
import { QuotaService } from '../../common/quota/quota.service';

export interface PlanUsage {
  tier: Tier;
  /** The effective limits (overrides applied); null = unlimited. */
  limits: Record<LimitName, number | null>;
  /** Account-wide limits as a number; per-entity limits as `{ [entityId]: used }`. */
  usage: Record<LimitName, number | Record<string, number>>;
  /** The limits this account overrides, with their values. */
  overrides: Partial<Record<LimitName, number | null>>;
}

const toNumber = (v: string | null) => (v === null ? null : Number(v));

@Injectable()
export class PlansService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly quota: QuotaService,
  ) {}

  /**
   * The limits as the quota trigger enforces them: both read the view `effective_limits`
   * (migration EffectiveLimits), where an override wins over the plan's value. Limits and usage
   * are read from one snapshot.
   */
  forAccount(accountId: string): Promise<PlanUsage> {
    return this.txHost.withTransaction({ isolationLevel: 'REPEATABLE READ' }, async () => {
      const limitRows: { tier: Tier; limit_name: LimitName; value: string | null; overridden: boolean }[] = await this.txHost.tx.query(
        `SELECT tier, limit_name, value, overridden FROM effective_limits WHERE account_id = $1`,
        [accountId],
      );
      const used = await this.quota.usage(accountId);
      const limits = Object.fromEntries(
        LIMIT_NAMES.map((name) => [name, toNumber(limitRows.find((r) => r.limit_name === name)?.value ?? null)]),
      ) as PlanUsage['limits'];
      const overrides = Object.fromEntries(limitRows.filter((r) => r.overridden).map((r) => [r.limit_name, toNumber(r.value)]));
      const usage = Object.fromEntries(LIMIT_NAMES.map((name) => [name, name.endsWith('maxPerEntity') ? {} : 0])) as PlanUsage['usage'];
      for (const { limit, scopeId, amount } of used) {
        if (scopeId === '') usage[limit] = amount;
        else (usage[limit] as Record<string, number>)[scopeId] = amount;
      }
      return { tier: limitRows[0].tier, limits, usage, overrides };
    });
  }
}
